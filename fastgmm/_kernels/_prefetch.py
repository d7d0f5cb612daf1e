"""A software prefetch for the block loops (LLVM's ``llvm.prefetch``)."""

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def prefetch(typingctx, arr, row, col):
    """Ask for the cache line of ``arr[row, col]`` (2-D, any layout) ahead of its use.

    A hint only: it never faults, computes nothing and changes no result (callers
    keep ``row`` and ``col`` in bounds so that the address is a real one).
    """
    if not (isinstance(arr, types.Array) and arr.ndim == 2):
        return None
    sig = types.void(arr, row, col)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        r = context.cast(builder, args[1], signature.args[1], types.intp)
        c = context.cast(builder, args[2], signature.args[2], types.intp)
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [r, c], wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        # llvmlite names it for the pointer type (``llvm.prefetch.p0i8``); LLVM
        # versions with opaque pointers upgrade the name on their own.
        fn = builder.module.declare_intrinsic("llvm.prefetch", [i8p], fnty)
        # read, high temporal locality (all cache levels), data cache
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen
