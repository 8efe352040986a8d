/* SPDX-License-Identifier: MIT */
#include "guard.h"

#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/ptrace.h>
#include <sys/uio.h>

#include "error.h"
#include "macro.h"
#include "procfs.h"

#define RED_ZONE 128
#define EPILOGUE_MAX 24
#define XSTATE_MAX (64 * 1024)
#define XSAVE_LEGACY 512
#define XSAVE_HEADER 64
#define SW_BYTES_AT 464 /* struct _fpx_sw_bytes in the legacy area's spare */
#define UC_FP_XSTATE 0x1
#define UC_SIGCONTEXT_SS 0x2
#define UC_STRICT_RESTORE_SS 0x4
#define EFLAGS_TF 0x100
/* Not SS_ONSTACK, SS_DISABLE or 0: rt_sigreturn's sigaltstack() fails with
 * EINVAL, which it ignores, so the thread's alternate stack stays as is
 * (the tool cannot read it without a call of its own). */
#define SS_FLAGS_KEEP 3
#define SCAN_CHUNK 65536

/* The kernel's x86-64 struct rt_sigframe, as rt_sigreturn reads it. */
struct kernel_sigcontext {
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags;
	uint16_t cs, gs, fs, ss;
	uint64_t err, trapno, oldmask, cr2, fpstate;
	uint64_t reserved1[8];
};

struct kernel_ucontext {
	uint64_t uc_flags, uc_link;
	uint64_t ss_sp;
	int32_t ss_flags, ss_pad;
	uint64_t ss_size;
	struct kernel_sigcontext mc;
	uint64_t sigmask;
};

struct kernel_rt_sigframe {
	uint64_t pretcode;
	struct kernel_ucontext uc;
	uint8_t siginfo[128];
};

_Static_assert(sizeof(struct kernel_sigcontext) == 256, "struct sigcontext");
_Static_assert(sizeof(struct kernel_rt_sigframe) == 440, "struct rt_sigframe");

struct fpx_sw_bytes {
	uint32_t magic1, extended_size;
	uint64_t xfeatures;
	uint32_t xstate_size, padding[7];
};

/* After a `syscall` at @p: only `xor r32, r32` (which clear registers the
 * frame restores anyway), pops, then `ret`. Returns the pops, or -1. */
static int epilogue_pops(const uint8_t *p, size_t len)
{
	int pops = 0;

	for (size_t i = 0; i < len && i < EPILOGUE_MAX;) {
		uint8_t c = p[i];

		if (c == 0xc3)
			return pops;
		if (c >= 0x58 && c <= 0x5f && c != 0x5c) {
			pops++, i++;
		} else if (c == 0x41 && i + 1 < len && p[i + 1] >= 0x58 && p[i + 1] <= 0x5f) {
			pops++, i += 2;
		} else if (c == 0x31 && i + 1 < len && p[i + 1] >= 0xc0) {
			i += 2;
		} else if (c >= 0x40 && c <= 0x4f && i + 2 < len && p[i + 1] == 0x31 &&
			   p[i + 2] >= 0xc0) {
			i += 3;
		} else {
			return -1;
		}
	}
	return -1;
}

static const uint8_t SIGRETURN_EAX[] = {0xb8, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};
static const uint8_t SIGRETURN_RAX[] = {0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05};

static bool is_sigreturn(const uint8_t *p, size_t len)
{
	return (len >= sizeof(SIGRETURN_EAX) &&
		memcmp(p, SIGRETURN_EAX, sizeof(SIGRETURN_EAX)) == 0) ||
	       (len >= sizeof(SIGRETURN_RAX) && memcmp(p, SIGRETURN_RAX, sizeof(SIGRETURN_RAX)) == 0);
}

/* Both sequences end with a `syscall` (0f 05), so only those are looked
 * at: memchr() (vectorised) skips to each 05, a rarer byte in code than 0f,
 * and the byte before it is checked. The C library's text is scanned for
 * every --pid command, and a test at every byte cost 24 instructions a byte,
 * 44 % of an apply's. The sequences found are the same: the first `syscall`
 * with a popping epilogue, and the first rt_sigreturn by where it starts (a
 * later `syscall` cannot end a sequence that starts earlier). */
static void look_at(struct guard *g, const uint8_t *buf, size_t len, uint64_t at)
{
	const size_t eax = sizeof(SIGRETURN_EAX) - 2, rax = sizeof(SIGRETURN_RAX) - 2;
	const uint8_t *p = buf + 1, *end = buf + len;

	while (!(g->syscall_at && g->sigreturn_at) && p < end &&
	       (p = memchr(p, 0x05, (size_t)(end - p)))) {
		size_t i = (size_t)(p - 1 - buf); /* where the `syscall` starts */
		int pops;

		p++;
		if (buf[i] != 0x0f)
			continue;
		if (!g->sigreturn_at && i >= eax && is_sigreturn(buf + i - eax, len - i + eax))
			g->sigreturn_at = at + i - eax;
		else if (!g->sigreturn_at && i >= rax && is_sigreturn(buf + i - rax, len - i + rax))
			g->sigreturn_at = at + i - rax;
		if (!g->syscall_at) {
			pops = epilogue_pops(buf + i + 2, len - i - 2);
			if (pops >= 0) {
				g->syscall_at = at + i;
				g->pops = (unsigned)pops;
			}
		}
	}
}

static int scan_mapping(struct guard *g, int memfd, const struct map_entry *e)
{
	_cleanup_free_ uint8_t *buf = malloc(SCAN_CHUNK);
	const size_t overlap = EPILOGUE_MAX + 2;

	if (!buf)
		return -ENOMEM;
	for (uint64_t at = e->start; at < e->end; at += SCAN_CHUNK - overlap) {
		size_t len = MIN(SCAN_CHUNK, e->end - at);

		if (proc_mem_read(memfd, at, buf, len) < 0)
			return -EIO;
		look_at(g, buf, len, at);
		if ((g->syscall_at && g->sigreturn_at) || at + len >= e->end)
			break;
	}
	return 0;
}

/* The last C library where the sequences were found, and where: the next
 * process of a command usually maps the same one, and reading a couple of
 * bytes beats scanning its text. Checked every time, so a stale hint costs
 * only a scan. */
static struct {
	uint64_t dev, ino, offset, sigreturn_off;
} hint;

static bool hint_fits(struct guard *g, int memfd, const struct map_entry *e)
{
	uint8_t b[sizeof(SIGRETURN_RAX)];
	uint64_t at = e->start + hint.sigreturn_off;

	if (!hint.ino || hint.ino != e->inode || hint.offset != e->offset ||
	    hint.dev != ((uint64_t)e->dev_major << 32 | e->dev_minor) || at >= e->end)
		return false;
	if (proc_mem_read(memfd, at, b, MIN(sizeof(b), e->end - at)) < 0 ||
	    !is_sigreturn(b, MIN(sizeof(b), e->end - at)))
		return false;
	g->sigreturn_at = at;
	return true;
}

static void hint_take(const struct guard *g, const struct map_entry *e)
{
	if (g->sigreturn_at < e->start || g->sigreturn_at >= e->end)
		return;
	hint.dev = (uint64_t)e->dev_major << 32 | e->dev_minor;
	hint.ino = e->inode;
	hint.offset = e->offset;
	hint.sigreturn_off = g->sigreturn_at - e->start;
}

static bool is_code(const struct map_entry *e)
{
	return (e->prot & PROT_EXEC) && e->path && e->path[0] == '/';
}

int guard_find(int memfd, const struct proc_maps *maps, struct guard *g)
{
	*g = (struct guard){0};
	/* The vDSO first (tiny, in every process), then the C library, then
	 * any other code. */
	for (size_t i = 0; i < maps->n; i++)
		if (maps->v[i].path && strcmp(maps->v[i].path, "[vdso]") == 0)
			scan_mapping(g, memfd, &maps->v[i]);
	for (int pass = 0; pass < 2 && !(g->syscall_at && g->sigreturn_at); pass++)
		for (size_t i = 0; i < maps->n && !(g->syscall_at && g->sigreturn_at); i++) {
			const struct map_entry *e = &maps->v[i];
			bool libc = e->path && (strstr(e->path, "/libc.so") || strstr(e->path, "/libc-") ||
						strstr(e->path, "musl"));

			if (!is_code(e) || libc != (pass == 0))
				continue;
			if (!g->sigreturn_at && g->syscall_at && hint_fits(g, memfd, e))
				break;
			scan_mapping(g, memfd, e);
			hint_take(g, e);
		}
	return g->syscall_at && g->sigreturn_at ? 0 : -ENOENT;
}

/* A thread that was already restarting a call (the kernel's
 * restart_syscall, after an earlier stop) cannot restart it through a frame:
 * rt_sigreturn forgets the restart block, and restart_syscall would then
 * fail with EINTR. Its arguments are still in their registers, though, and
 * the call's number is usually the `mov $N, %eax` right before the
 * `syscall` (436 of libc's 529): start that call again. Otherwise leave it
 * (one EINTR, and only if the tool dies). */
static bool original_call(int memfd, struct user_regs_struct *r)
{
	uint8_t c[5];

	if (proc_mem_read(memfd, r->rip - 5, c, sizeof(c)) < 0 || c[0] != 0xb8)
		return false;
	r->rax = (uint32_t)(c[1] | c[2] << 8 | c[3] << 16 | (uint32_t)c[4] << 24);
	return true;
}

bool guard_resumable(int memfd, const struct user_regs_struct *own)
{
	struct user_regs_struct r = *own;

	if ((long)own->orig_rax != SYS_restart_syscall || (long)own->rax != -516)
		return true;
	r.rip -= 2;
	return original_call(memfd, &r);
}

void guard_resume_regs(int memfd, const struct user_regs_struct *own,
		       struct user_regs_struct *ret)
{
	*ret = *own;
	if ((long)own->orig_rax < 0)
		return;
	switch ((long)own->rax) {
	case -512: /* ERESTARTSYS */
	case -513: /* ERESTARTNOINTR */
	case -514: /* ERESTARTNOHAND */
	case -516: /* ERESTART_RESTARTBLOCK: rt_sigreturn drops the restart block */
		ret->rax = own->orig_rax;
		ret->rip -= 2;
		if (own->orig_rax == SYS_restart_syscall)
			original_call(memfd, ret);
		break;
	default:
		break;
	}
}

/* The end of the highest state component the thread has in use: what
 * rt_sigreturn needs to read (at least the legacy area and the header). */
static uint32_t xstate_used_size(const uint8_t *xs)
{
	uint64_t bv;
	uint32_t end = XSAVE_LEGACY + XSAVE_HEADER;

	memcpy(&bv, xs + XSAVE_LEGACY, sizeof(bv));
	for (unsigned i = 2; i < 63; i++) {
		unsigned eax, ebx, ecx, edx;

		if (!(bv & (1ULL << i)) || !__get_cpuid_count(0xd, i, &eax, &ebx, &ecx, &edx))
			continue;
		end = MAX(end, ebx + eax);
	}
	return end;
}

/* The thread's FP/vector state, as the kernel's signal frame holds it. The
 * regset is the same XSAVE layout, but its spare bytes hold the enabled
 * feature mask (XCR0, as debuggers read it) where a frame has the words
 * that tell rt_sigreturn to restore the extended state. */
static int read_xstate(pid_t tid, uint8_t **ret, uint32_t *ret_size)
{
	struct fpx_sw_bytes sw = {.magic1 = FP_XSTATE_MAGIC1};
	struct iovec iov;
	uint8_t *xs = aligned_alloc(64, XSTATE_MAX);
	uint64_t xcr0;
	uint32_t size;

	if (!xs)
		return -ENOMEM;
	memset(xs, 0, XSTATE_MAX);
	iov = (struct iovec){xs, XSTATE_MAX - 64}; /* a multiple of 8, and room for magic2 */
	if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_X86_XSTATE, &iov) < 0 ||
	    iov.iov_len < XSAVE_LEGACY + XSAVE_HEADER) {
		free(xs);
		return -ENOTSUP;
	}
	memcpy(&xcr0, xs + SW_BYTES_AT, sizeof(xcr0));
	size = MIN(xstate_used_size(xs), (uint32_t)iov.iov_len);
	sw.xfeatures = xcr0;
	sw.xstate_size = size;
	sw.extended_size = size + 4;
	memcpy(xs + SW_BYTES_AT, &sw, sizeof(sw));
	memcpy(xs + size, &(uint32_t){FP_XSTATE_MAGIC2}, 4);
	*ret = xs;
	*ret_size = size + 4;
	return 0;
}

static void fill_sigcontext(struct kernel_sigcontext *sc, const struct user_regs_struct *r)
{
	*sc = (struct kernel_sigcontext){
		.r8 = r->r8, .r9 = r->r9, .r10 = r->r10, .r11 = r->r11, .r12 = r->r12,
		.r13 = r->r13, .r14 = r->r14, .r15 = r->r15, .rdi = r->rdi, .rsi = r->rsi,
		.rbp = r->rbp, .rbx = r->rbx, .rdx = r->rdx, .rax = r->rax, .rcx = r->rcx,
		.rsp = r->rsp, .rip = r->rip, .eflags = r->eflags & ~(uint64_t)EFLAGS_TF,
		.cs = (uint16_t)r->cs, .ss = (uint16_t)r->ss,
	};
}

/* Builds [pops words][rt_sigframe][pad][xstate + magic2] for a frame at
 * @frame, the whole of it starting at @low. */
static void build(const struct guard *g, int memfd, uint64_t low, uint64_t frame, uint64_t fp,
		 const struct user_regs_struct *own, uint64_t sigmask, const uint8_t *xs,
		 uint32_t xsize, uint8_t *buf)
{
	struct kernel_rt_sigframe f = {.pretcode = g->sigreturn_at};
	struct user_regs_struct resume;

	guard_resume_regs(memfd, own, &resume);
	f.uc.uc_flags = UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
	f.uc.ss_flags = SS_FLAGS_KEEP;
	fill_sigcontext(&f.uc.mc, &resume);
	f.uc.mc.fpstate = fp;
	f.uc.sigmask = sigmask;
	memcpy(buf + (frame - low), &f, sizeof(f));
	memcpy(buf + (fp - low), xs, xsize);
}

static bool room_below(const struct proc_maps *maps, uint64_t sp, uint64_t low)
{
	const struct map_entry *e = proc_maps_find(maps, sp - 1);

	return e && !e->shared && (e->prot & PROT_WRITE) && low >= e->start && low < sp;
}

int guard_arm(struct guard *g, pid_t tid, int memfd, const struct proc_maps *maps,
	      const struct user_regs_struct *own)
{
	_cleanup_free_ uint8_t *buf = NULL;
	uint8_t *xs = NULL;
	uint64_t sigmask = 0, fp, frame, low, top = own->rsp - RED_ZONE;
	uint32_t xsize = 0;
	int r;

	g->armed = false;
	if (!g->syscall_at || !g->sigreturn_at)
		return -ENOENT;
	if (ptrace(PTRACE_GETSIGMASK, tid, (void *)sizeof(sigmask), &sigmask) < 0)
		return -errno;
	r = read_xstate(tid, &xs, &xsize);
	if (r < 0)
		return r;
	fp = (top - xsize) & ~(uint64_t)63;
	frame = ((fp - sizeof(struct kernel_rt_sigframe)) & ~(uint64_t)15) - 8;
	low = frame - 8 * (uint64_t)g->pops;
	if (!room_below(maps, own->rsp, low)) {
		r = -ENOSPC;
		goto out;
	}
	buf = calloc(1, fp + xsize - low);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	build(g, memfd, low, frame, fp, own, sigmask, xs, xsize, buf);
	r = proc_mem_write(memfd, low, buf, fp + xsize - low);
	if (r == 0) {
		g->frame = frame;
		g->armed = true;
	}
out:
	free(xs);
	hp_err_clear();
	return r;
}

void guard_call_regs(const struct guard *g, struct user_regs_struct *regs)
{
	regs->rip = g->syscall_at;
	regs->rsp = g->frame - 8 * (uint64_t)g->pops;
	regs->eflags &= ~(unsigned long long)EFLAGS_TF;
}
