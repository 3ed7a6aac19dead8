/* libFuzzer target for the SMTP parsers of untrusted input: command lines
 * (check, verb, MAIL/RCPT/BDAT/HELO arguments) and the DATA reader, which
 * must give the same result whether its input comes at once or byte by
 * byte (the network splits data anywhere). The first byte picks. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/command.h"
#include "smtp/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_command(const uint8_t *data, size_t size)
{
	char line[SMTP_LINE_MAX], verb[SMTP_VERB_MAX + 1], path[SMTP_PATH_MAX + 1];
	char name[SMTP_DOMAIN_MAX + 1], buf[SMTP_PATH_MAX + 1];
	const char *args, *local, *domain;
	struct mail_params p;
	uint64_t n;
	int last;

	if (size >= sizeof line)
		return;
	memcpy(line, data, size);
	line[size] = '\0';
	if (cmd_check_line(line, size) != CMD_OK || cmd_split(line, verb, &args) < 0)
		return;
	if (cmd_parse_mail(args, &p) == PATH_OK && strlen(p.path) > SMTP_PATH_MAX)
		abort();
	if (cmd_parse_rcpt(args, path) == PATH_OK) {
		if (path[0] == '\0' || strlen(path) > SMTP_PATH_MAX)
			abort();
		if (addr_split(path, buf, sizeof buf, &local, &domain, 1) == 0 && (!*local || !*domain))
			abort();
	}
	(void)cmd_parse_bdat(args, &n, &last);
	if (cmd_parse_helo(args, name) == 0 && (name[0] == '\0' || strlen(name) > SMTP_DOMAIN_MAX))
		abort();
}

static void fuzz_data(const uint8_t *data, size_t size)
{
	struct data_reader a, b;
	unsigned char *out1 = malloc(size + 1), *out2 = malloc(size + 2);
	size_t o1, used1, used2 = 0, o2 = 0;

	if (out1 == NULL || out2 == NULL)
		goto out;
	data_reader_init(&a);
	used1 = data_reader_feed(&a, data, size, out1, &o1);
	if (used1 > size || o1 > size + 1)
		abort();
	data_reader_init(&b);
	while (used2 < size && b.st != DS_END) {
		size_t k;
		used2 += data_reader_feed(&b, data + used2, 1, out2 + o2, &k);
		o2 += k;
	}
	if (a.st != b.st || used1 != used2 || o1 != o2 || memcmp(out1, out2, o1) != 0)
		abort();
out:
	free(out1);
	free(out2);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	if (data[0] & 1)
		fuzz_data(data + 1, size - 1);
	else
		fuzz_command(data + 1, size - 1);
	return 0;
}
