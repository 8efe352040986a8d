/* SPDX-License-Identifier: MIT */
/*
 * libdw, loaded when first needed (lazylib.h): by the stack unwinder of the
 * safety check, which runs only when a stack word points into a function
 * being replaced, and by the builder's DWARF reader. With it go liblzma and
 * libbz2, its own dependencies. The first unwind of a run happens inside a
 * pause, which the loading then lengthens (about 0.45 ms, once per run;
 * docs/design.md, the flip). These are the functions hotpatch calls.
 */
#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>

#include "lazylib.h"

static struct lazy_lib dw = LAZY_LIB(LIBDW_SONAME, "libdw1");

/* libdw: a DWARF session on an ELF file (the builder's completeness check) */
Dwarf *dwarf_begin(int fildes, Dwarf_Cmd cmd)
{
	LAZY_FORWARD(dw, dwarf_begin, (fildes, cmd));
}

int dwarf_end(Dwarf *dwarf)
{
	LAZY_FORWARD(dw, dwarf_end, (dwarf));
}

Dwarf_Die *dwarf_addrdie(Dwarf *dbg, Dwarf_Addr addr, Dwarf_Die *result)
{
	LAZY_FORWARD(dw, dwarf_addrdie, (dbg, addr, result));
}

const char *dwarf_formstring(Dwarf_Attribute *attrp)
{
	LAZY_FORWARD(dw, dwarf_formstring, (attrp));
}

/* libdw: DIEs and their attributes */
Dwarf_Attribute *dwarf_attr(Dwarf_Die *die, unsigned int search_name, Dwarf_Attribute *result)
{
	LAZY_FORWARD(dw, dwarf_attr, (die, search_name, result));
}

int dwarf_child(Dwarf_Die *die, Dwarf_Die *result)
{
	LAZY_FORWARD(dw, dwarf_child, (die, result));
}

const char *dwarf_decl_file(Dwarf_Die *decl)
{
	LAZY_FORWARD(dw, dwarf_decl_file, (decl));
}

int dwarf_decl_line(Dwarf_Die *decl, int *linep)
{
	LAZY_FORWARD(dw, dwarf_decl_line, (decl, linep));
}

const char *dwarf_diename(Dwarf_Die *die)
{
	LAZY_FORWARD(dw, dwarf_diename, (die));
}

const char *dwarf_filesrc(Dwarf_Files *file, size_t idx, Dwarf_Word *mtime, Dwarf_Word *length)
{
	LAZY_FORWARD(dw, dwarf_filesrc, (file, idx, mtime, length));
}

Dwarf_Die *dwarf_formref_die(Dwarf_Attribute *attr, Dwarf_Die *die_mem)
{
	LAZY_FORWARD(dw, dwarf_formref_die, (attr, die_mem));
}

int dwarf_formudata(Dwarf_Attribute *attr, Dwarf_Word *return_uval)
{
	LAZY_FORWARD(dw, dwarf_formudata, (attr, return_uval));
}

int dwarf_getsrcfiles(Dwarf_Die *cudie, Dwarf_Files **files, size_t *nfiles)
{
	LAZY_FORWARD(dw, dwarf_getsrcfiles, (cudie, files, nfiles));
}

int dwarf_hasattr(Dwarf_Die *die, unsigned int search_name)
{
	LAZY_FORWARD(dw, dwarf_hasattr, (die, search_name));
}

int dwarf_siblingof(Dwarf_Die *die, Dwarf_Die *result)
{
	LAZY_FORWARD(dw, dwarf_siblingof, (die, result));
}

int dwarf_tag(Dwarf_Die *die)
{
	LAZY_FORWARD(dw, dwarf_tag, (die));
}

/* libdwfl: sessions and modules */
Dwfl *dwfl_begin(const Dwfl_Callbacks *callbacks)
{
	LAZY_FORWARD(dw, dwfl_begin, (callbacks));
}

void dwfl_end(Dwfl *dwfl)
{
	LAZY_FORWARD_VOID(dw, dwfl_end, (dwfl));
}

const char *dwfl_errmsg(int err)
{
	LAZY_FORWARD(dw, dwfl_errmsg, (err));
}

void dwfl_report_begin(Dwfl *dwfl)
{
	LAZY_FORWARD_VOID(dw, dwfl_report_begin, (dwfl));
}

int dwfl_report_end(Dwfl *dwfl, int (*removed)(Dwfl_Module *, void *, const char *, Dwarf_Addr,
					       void *arg),
		    void *arg)
{
	LAZY_FORWARD(dw, dwfl_report_end, (dwfl, removed, arg));
}

Dwfl_Module *dwfl_report_offline(Dwfl *dwfl, const char *name, const char *file_name, int fd)
{
	LAZY_FORWARD(dw, dwfl_report_offline, (dwfl, name, file_name, fd));
}

int dwfl_linux_proc_report(Dwfl *dwfl, pid_t pid)
{
	LAZY_FORWARD(dw, dwfl_linux_proc_report, (dwfl, pid));
}

Dwarf_Die *dwfl_module_nextcu(Dwfl_Module *mod, Dwarf_Die *lastcu, Dwarf_Addr *bias)
{
	LAZY_FORWARD(dw, dwfl_module_nextcu, (mod, lastcu, bias));
}

/* libdwfl: the standard callbacks, passed in Dwfl_Callbacks */
int dwfl_build_id_find_elf(Dwfl_Module *mod, void **userdata, const char *name, Dwarf_Addr base,
			   char **file_name, Elf **elfp)
{
	LAZY_FORWARD(dw, dwfl_build_id_find_elf, (mod, userdata, name, base, file_name, elfp));
}

int dwfl_linux_proc_find_elf(Dwfl_Module *mod, void **userdata, const char *module_name,
			     Dwarf_Addr base, char **file_name, Elf **elfp)
{
	LAZY_FORWARD(dw, dwfl_linux_proc_find_elf,
		     (mod, userdata, module_name, base, file_name, elfp));
}

int dwfl_offline_section_address(Dwfl_Module *mod, void **userdata, const char *modname,
				 Dwarf_Addr base, const char *secname, GElf_Word shndx,
				 const GElf_Shdr *shdr, Dwarf_Addr *addr)
{
	LAZY_FORWARD(dw, dwfl_offline_section_address,
		     (mod, userdata, modname, base, secname, shndx, shdr, addr));
}

int dwfl_standard_find_debuginfo(Dwfl_Module *mod, void **userdata, const char *modname,
				 Dwarf_Addr base, const char *file_name,
				 const char *debuglink_file, GElf_Word debuglink_crc,
				 char **debuginfo_file_name)
{
	LAZY_FORWARD(dw, dwfl_standard_find_debuginfo,
		     (mod, userdata, modname, base, file_name, debuglink_file, debuglink_crc,
		      debuginfo_file_name));
}

/* libdwfl: unwinding */
bool dwfl_attach_state(Dwfl *dwfl, Elf *elf, pid_t pid,
		       const Dwfl_Thread_Callbacks *thread_callbacks, void *dwfl_arg)
{
	LAZY_FORWARD(dw, dwfl_attach_state, (dwfl, elf, pid, thread_callbacks, dwfl_arg));
}

bool dwfl_frame_pc(Dwfl_Frame *state, Dwarf_Addr *pc, bool *isactivation)
{
	LAZY_FORWARD(dw, dwfl_frame_pc, (state, pc, isactivation));
}

int dwfl_getthread_frames(Dwfl *dwfl, pid_t tid, int (*callback)(Dwfl_Frame *thread, void *arg),
			  void *arg)
{
	LAZY_FORWARD(dw, dwfl_getthread_frames, (dwfl, tid, callback, arg));
}

bool dwfl_thread_state_registers(Dwfl_Thread *thread, int firstreg, unsigned nregs,
				 const Dwarf_Word *regs)
{
	LAZY_FORWARD(dw, dwfl_thread_state_registers, (thread, firstreg, nregs, regs));
}

void dwfl_thread_state_register_pc(Dwfl_Thread *thread, Dwarf_Word pc)
{
	LAZY_FORWARD_VOID(dw, dwfl_thread_state_register_pc, (thread, pc));
}
