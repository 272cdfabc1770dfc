/* Symbol tables shared by several families: errno values of failed
 * syscalls and the syscall that produced an event. */
#include "events/types.h"

#include <errno.h>

/* ret fields: -errno, rendered by name ("ret_str": "ENOENT"). */
#define E(x) { (uint64_t)(int64_t)-x, #x }
const struct tp_sym tp_errno_syms[] = {
	E(EPERM),        E(ENOENT),       E(ESRCH),        E(EINTR),         E(EIO),
	E(ENXIO),        E(E2BIG),        E(ENOEXEC),      E(EBADF),         E(ECHILD),
	E(EAGAIN),       E(ENOMEM),       E(EACCES),       E(EFAULT),        E(EBUSY),
	E(EEXIST),       E(EXDEV),        E(ENODEV),       E(ENOTDIR),       E(EISDIR),
	E(EINVAL),       E(ENFILE),       E(EMFILE),       E(ETXTBSY),       E(EFBIG),
	E(ENOSPC),       E(ESPIPE),       E(EROFS),        E(EMLINK),        E(EPIPE),
	E(ERANGE),       E(ENAMETOOLONG), E(ENOSYS),       E(ENOTEMPTY),     E(ELOOP),
	E(ENOTSOCK),     E(EDESTADDRREQ), E(EMSGSIZE),     E(EPROTOTYPE),    E(EPROTONOSUPPORT),
	E(EOPNOTSUPP),   E(EAFNOSUPPORT), E(EADDRINUSE),   E(EADDRNOTAVAIL), E(ENETDOWN),
	E(ENETUNREACH),  E(ECONNABORTED), E(ECONNRESET),   E(ENOBUFS),       E(EISCONN),
	E(ENOTCONN),     E(ETIMEDOUT),    E(ECONNREFUSED), E(EHOSTUNREACH),  E(EALREADY),
	E(EINPROGRESS),  E(EDQUOT),       E(ECANCELED),    E(EOVERFLOW),     E(ESTALE),
	{ 0, NULL },
};
#undef E

const struct tp_sym tp_syscall_syms[] = {
	{ TP_SYS_OPEN, "open" },
	{ TP_SYS_OPENAT, "openat" },
	{ TP_SYS_OPENAT2, "openat2" },
	{ TP_SYS_CREAT, "creat" },
	{ TP_SYS_RENAME, "rename" },
	{ TP_SYS_RENAMEAT, "renameat" },
	{ TP_SYS_RENAMEAT2, "renameat2" },
	{ TP_SYS_UNLINK, "unlink" },
	{ TP_SYS_UNLINKAT, "unlinkat" },
	{ TP_SYS_RMDIR, "rmdir" },
	{ TP_SYS_CHMOD, "chmod" },
	{ TP_SYS_FCHMOD, "fchmod" },
	{ TP_SYS_FCHMODAT, "fchmodat" },
	{ TP_SYS_FCHMODAT2, "fchmodat2" },
	{ TP_SYS_CHOWN, "chown" },
	{ TP_SYS_LCHOWN, "lchown" },
	{ TP_SYS_FCHOWN, "fchown" },
	{ TP_SYS_FCHOWNAT, "fchownat" },
	{ TP_SYS_LINK, "link" },
	{ TP_SYS_LINKAT, "linkat" },
	{ TP_SYS_SYMLINK, "symlink" },
	{ TP_SYS_SYMLINKAT, "symlinkat" },
	{ TP_SYS_MKDIR, "mkdir" },
	{ TP_SYS_MKDIRAT, "mkdirat" },
	{ TP_SYS_CONNECT, "connect" },
	{ TP_SYS_ACCEPT, "accept" },
	{ TP_SYS_ACCEPT4, "accept4" },
	{ TP_SYS_SENDTO, "sendto" },
	{ TP_SYS_SENDMSG, "sendmsg" },
	{ TP_SYS_SENDMMSG, "sendmmsg" },
	{ TP_SYS_SETUID, "setuid" },
	{ TP_SYS_SETREUID, "setreuid" },
	{ TP_SYS_SETRESUID, "setresuid" },
	{ TP_SYS_SETFSUID, "setfsuid" },
	{ TP_SYS_SETGID, "setgid" },
	{ TP_SYS_SETREGID, "setregid" },
	{ TP_SYS_SETRESGID, "setresgid" },
	{ TP_SYS_SETFSGID, "setfsgid" },
	{ TP_SYS_KILL, "kill" },
	{ TP_SYS_TKILL, "tkill" },
	{ TP_SYS_TGKILL, "tgkill" },
	{ TP_SYS_MMAP, "mmap" },
	{ TP_SYS_MPROTECT, "mprotect" },
	{ TP_SYS_UNSHARE, "unshare" },
	{ TP_SYS_CLONE, "clone" },
	{ TP_SYS_CLONE3, "clone3" },
	{ 0, NULL },
};
