# Written by tachy mem into a temporary folder put first on PYTHONPATH: it loads tachy's
# allocator hook into this interpreter, then runs the sitecustomize it shadows, if any.
import os
import sys


def _tachy_mem_start():
    out = os.environ.get("TACHY_MEM_DIR")
    if not out:
        return
    try:
        import ctypes

        lib = ctypes.PyDLL(os.environ["TACHY_MEM_LIB"])
        lib.tachy_mem_start.argtypes = [ctypes.c_char_p, ctypes.c_uint64, ctypes.c_uint64]
        lib.tachy_mem_error.restype = ctypes.c_char_p
        rc = lib.tachy_mem_start(
            out.encode(),
            int(os.environ.get("TACHY_MEM_SAMPLE", "262144")),
            int(os.environ.get("TACHY_MEM_INTERVAL", "10")),
        )
        msg = lib.tachy_mem_error().decode(errors="replace") if rc else ""
    except Exception as e:  # any failure is reported to tachy, never to the program
        rc, msg = 1, f"cannot load the tachy mem hook: {e}"
    pid = os.getpid()
    if rc:
        with open(os.path.join(out, f"{pid}.err"), "w") as f:
            f.write(msg)
        return
    import atexit

    def _tachy_mem_exit():
        # Garbage in reference cycles that the collector has not reached yet is not a leak:
        # collect it, then mark the leak point (registered first, this runs after every
        # atexit function of the program).
        try:
            import gc

            gc.collect()
        finally:
            lib.tachy_mem_exit_marker()

    atexit.register(_tachy_mem_exit)
    # errors="replace": a script name that is not UTF-8 must not break the bootstrap.
    with open(os.path.join(out, f"{pid}.info"), "w", encoding="utf-8", errors="replace") as f:
        f.write(sys.version.split()[0] + "\n" + " ".join(sys.argv) + "\n")
    if os.environ.get("TACHY_MEM_CHILDREN") != "1":
        del os.environ["TACHY_MEM_DIR"]


_tachy_mem_start()
del _tachy_mem_start


def _tachy_chain():
    here = os.path.dirname(os.path.abspath(__file__))
    for entry in sys.path:
        if os.path.abspath(entry or ".") == here:
            continue
        candidate = os.path.join(entry or ".", "sitecustomize.py")
        if os.path.isfile(candidate):
            with open(candidate, "rb") as f:
                code = compile(f.read(), candidate, "exec")
            exec(code, {"__name__": "sitecustomize", "__file__": candidate})
            return


_tachy_chain()
del _tachy_chain
