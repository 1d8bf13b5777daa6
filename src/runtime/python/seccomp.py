# pycage seccomp: prepended to the programs that run untrusted code (the bootstrap that runs a script,
# the install that runs package build code), before anything else they do. It adds a seccomp filter on
# top of the container runtime's own profile (filters stack; the strictest answer wins, and no process
# can remove one), denying with EPERM what Docker 20.10's default profile still allows:
#   - io_uring_setup, io_uring_enter, io_uring_register: a large kernel surface, behind many escapes;
#   - ptrace, process_vm_readv, process_vm_writev: no reading or steering another process;
#   - userfaultfd, perf_event_open, bpf, keyctl, add_key, request_key: kernel surfaces a script never needs;
#   - every syscall of a foreign ABI (i386 and x32 on x86_64, arm32 on aarch64).
# no_new_privs is already set (Docker's no-new-privileges); it is set again here because the kernel
# requires it for an unprivileged filter. Fails closed: if the filter cannot be installed, nothing runs.
def _pycage_seccomp():
    import ctypes
    import errno
    import os
    import struct

    machine = os.uname().machine
    # (audit arch, denied syscall numbers) per architecture; io_uring is 425-427 everywhere.
    tables = {
        "x86_64": (0xC000003E, [101, 310, 311, 323, 298, 321, 250, 248, 249, 425, 426, 427]),
        "aarch64": (0xC00000B7, [117, 270, 271, 282, 241, 280, 219, 217, 218, 425, 426, 427]),
    }
    if machine not in tables:
        raise SystemExit("pycage: no seccomp table for %s; refusing to run unconfined" % machine)
    arch, denied = tables[machine]

    def instruction(code, jump_true, jump_false, value):
        return struct.pack("HBBI", code, jump_true, jump_false, value)

    load_word, jump_equal, jump_at_least, give = 0x20, 0x15, 0x35, 0x06
    allow, deny = 0x7FFF0000, 0x00050000 | errno.EPERM
    program = [
        instruction(load_word, 0, 0, 4),  # seccomp_data.arch
        instruction(jump_equal, 1, 0, arch),
        instruction(give, 0, 0, deny),
        instruction(load_word, 0, 0, 0),  # seccomp_data.nr
    ]
    if machine == "x86_64":
        # x32 syscalls carry bit 30 in their number.
        program += [instruction(jump_at_least, 0, 1, 0x40000000), instruction(give, 0, 0, deny)]
    for index, number in enumerate(denied):
        program.append(instruction(jump_equal, len(denied) - index, 0, number))
    program += [instruction(give, 0, 0, allow), instruction(give, 0, 0, deny)]

    class Program(ctypes.Structure):
        _fields_ = [("length", ctypes.c_ushort), ("filter", ctypes.c_char_p)]

    code = b"".join(program)
    filter_program = Program(len(program), code)
    libc = ctypes.CDLL(None, use_errno=True)
    set_no_new_privs, set_seccomp, mode_filter = 38, 22, 2
    if libc.prctl(set_no_new_privs, 1, 0, 0, 0) != 0 or libc.prctl(set_seccomp, mode_filter, ctypes.byref(filter_program), 0, 0) != 0:
        raise SystemExit("pycage: could not install the seccomp filter (errno %d); refusing to run" % ctypes.get_errno())


_pycage_seccomp()
del _pycage_seccomp
