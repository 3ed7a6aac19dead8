/* libFuzzer target for the store's parsers of untrusted text: Maildir
 * names (anyone with access to new/ can place a file), mailbox.conf, the
 * name/description check, maildrop.lock (written by any gateway host) and
 * the --dedup window. The first byte picks the parser. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/admin.h"
#include "store/dedup.h"
#include "store/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mailbox mb;
	char *text;
	size_t ul;
	uint64_t s, w;
	time_t t;
	int sized;
	int64_t win, again;
	char wtext[32];

	if (size < 1 || size > 65536)
		return 0;
	text = malloc(size);
	if (text == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 5) {
	case 0:
		if (maildir_parse(text, &ul, &s, &w, &t, &sized) == 0 && ul > strlen(text))
			abort();
		break;
	case 1:
		(void)mailbox_text_valid(text, MAILBOX_DESC_MAX, 1);
		break;
	case 3: {
		struct store_lock_info li;
		memset(&li, 0, sizeof li);
		if (store_lock_parse(text, &li) == 0 &&
		    (li.pid <= 0 || li.lease <= 0 || li.lease > STORE_LOCK_LEASE_MAX || li.host[0] == '\0' || memchr(li.host, '\0', sizeof li.host) == NULL))
			abort();
		break;
	}
	case 4:
		/* In range, and the formatted window parses back to itself. */
		if (store_dedup_window_parse(text, &win) == 0) {
			if (win < 0 || win > STORE_DEDUP_WINDOW_MAX)
				abort();
			store_dedup_window_format(win, wtext, sizeof wtext);
			if (store_dedup_window_parse(wtext, &again) != 0 || again != win)
				abort();
		}
		break;
	default:
		if (store_conf_parse(text, "abcdefghijkmn234", &mb) == 0 &&
		    (!mailbox_text_valid(mb.name, MAILBOX_NAME_MAX, 0) || strcmp(mb.id, "abcdefghijkmn234") != 0 ||
		     mb.dedup_window < 0 || mb.dedup_window > STORE_DEDUP_WINDOW_MAX))
			abort();
		break;
	}
	free(text);
	return 0;
}
