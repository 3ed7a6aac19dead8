/* msgw-mbox: the administrator's command line for mailboxes. */
#include "config.h"

#include "mbox/mbox.h"

int main(int argc, char **argv)
{
	return mbox_main(argc, argv);
}
