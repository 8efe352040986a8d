/* SPDX-License-Identifier: MIT */
/* fixes: CVE-2024-10918-part1.patch CVE-2024-10918-part2.patch
 * libs: -L{libdir} -l:{file}
 * fixed-package: libmodbus5
 *
 * CVE-2024-10918 (libmodbus 3.1.6-2.1+deb12u1), the TCP parts: modbus_reply()
 * answered a write_bit or write_register request by copying the request,
 * req_length bytes as its caller said, into its own response buffer of
 * MODBUS_MAX_MESSAGE_LENGTH (260) bytes on the stack. The fixed library
 * checks the length against the request's function and answers "illegal
 * data value"; the older one overruns its stack (the stack protector aborts,
 * or it crashes). Part 3 (the RTU check) is not tested here.
 *
 * A TCP context on one end of a socket pair, the reply read from the other.
 * Says "ready", waits for a line on stdin (the survey applies the live
 * patch in between), then prints "fixed" or dies. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct _modbus modbus_t;
typedef struct _modbus_mapping_t modbus_mapping_t;
modbus_t *modbus_new_tcp(const char *ip, int port);
int modbus_set_socket(modbus_t *ctx, int s);
modbus_mapping_t *modbus_mapping_new(int bits, int input_bits, int registers, int input_regs);
int modbus_reply(modbus_t *ctx, const uint8_t *req, int req_length, modbus_mapping_t *map);

#define LONG 2000 /* the length the caller claims: far more than 260 */

/* One write request (@function 0x05 write_bit, 0x06 write_register) of
 * 12 bytes, passed as LONG bytes long; 1 when the library answered with the
 * exception "illegal data value" (0x03). */
static int refused(modbus_t *ctx, modbus_mapping_t *map, int peer, uint8_t function,
		   uint16_t value)
{
	static uint8_t req[LONG];
	uint8_t rsp[LONG * 2];

	memset(req, 0x41, sizeof(req));
	/* MBAP: transaction 1, protocol 0, length 6, unit 1; PDU: function,
	 * address 0, value */
	const uint8_t head[] = {0, 1, 0, 0, 0, 6, 1, function, 0, 0, value >> 8, value & 0xff};

	memcpy(req, head, sizeof(head));
	if (modbus_reply(ctx, req, LONG, map) < 0)
		return 0;
	ssize_t n = recv(peer, rsp, sizeof(rsp), 0);

	return n >= 9 && rsp[7] == (function | 0x80) && rsp[8] == 0x03;
}

int main(void)
{
	int sv[2];
	char line[16];

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return 3;
	modbus_t *ctx = modbus_new_tcp("127.0.0.1", 1502);
	modbus_mapping_t *map = modbus_mapping_new(16, 16, 16, 16);

	if (!ctx || !map || modbus_set_socket(ctx, sv[0]) != 0)
		return 3;

	printf("ready\n");
	fflush(stdout);
	if (!fgets(line, sizeof(line), stdin))
		return 3;
	if (!refused(ctx, map, sv[1], 0x05, 0xff00))
		return 1;
	if (!refused(ctx, map, sv[1], 0x06, 0x0042))
		return 2;
	printf("fixed\n");
	return 0;
}
