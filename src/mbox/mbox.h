/* msgw-mbox commands. */
#ifndef MSGW_MBOX_MBOX_H
#define MSGW_MBOX_MBOX_H

int mbox_main(int argc, char **argv);

#endif
