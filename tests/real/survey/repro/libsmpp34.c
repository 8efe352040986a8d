/* SPDX-License-Identifier: MIT */
/* fixes: CVE-2026-75895.patch
 * libs: -L{libdir} -l:{file}
 * fixed-package: libsmpp34-1
 *
 * CVE-2026-75895 (libsmpp34 1.14.1-3+deb12u1): smpp34_unpack() ran
 * strlen() on a C-Octet-String of the wire buffer before any bounds check,
 * so a field that runs to the end of the PDU without its NUL was read past
 * the buffer. Here the PDU (a bind_transmitter whose system_id is "AAAA",
 * unterminated) ends exactly where an inaccessible page begins: the older
 * library reads into that page and dies of SIGSEGV, the fixed one stops at
 * the buffer's end and refuses the PDU (-1).
 *
 * Says "ready", waits for a line on stdin (the survey applies the live
 * patch in between), then prints "fixed" or dies. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int smpp34_unpack(uint32_t type, void *tt, const uint8_t *buf, int len);

#define BIND_TRANSMITTER 0x00000002

int main(void)
{
	static uint64_t pdu_struct[8192]; /* more than struct bind_transmitter_t */
	long page = sysconf(_SC_PAGESIZE);
	uint32_t head[4];
	char line[16];

	uint8_t *map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED || mprotect(map + page, page, PROT_NONE) != 0)
		return 3;
	int len = (int)sizeof(head) + 4;
	uint8_t *pdu = map + page - len;

	head[0] = htonl((uint32_t)len);	/* command_length */
	head[1] = htonl(BIND_TRANSMITTER); /* command_id */
	head[2] = htonl(0);		/* command_status */
	head[3] = htonl(1);		/* sequence_number */
	memcpy(pdu, head, sizeof(head));
	memcpy(pdu + sizeof(head), "AAAA", 4); /* system_id, no NUL */

	printf("ready\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 3;

	int r = smpp34_unpack(BIND_TRANSMITTER, pdu_struct, pdu, len);

	if (r != -1) {
		fprintf(stderr, "the unterminated system_id was accepted (%d)\n", r);
		return 1;
	}
	printf("fixed\n");
	return 0;
}
