package dev.streamtune.lm.runtime;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;

/**
 * A dtype conversion that autograd records, in either direction: what {@code tensor.to(dtype)} is in PyTorch.
 *
 * <p>DJL's {@link NDArray#toType} cannot serve: its native side runs under a {@code NoGradGuard}, so the result has
 * no gradient function and a backward pass through it fails (DtypeCastTest). Type promotion
 * ({@code x.mul(ones of a wider dtype)}) is recorded but only ever widens. This copies instead: a fresh tensor of
 * the target dtype, written whole by an indexed assignment, which libtorch performs as {@code copy_} and records
 * as CopyBackwards (the gradient comes back cast to the source's dtype, exactly). It is the same two steps PyTorch's
 * own {@code to} takes (allocate, copy).
 */
public final class DifferentiableCast {

    private static final NDIndex ALL = new NDIndex("...");

    private DifferentiableCast() {}

    /**
     * {@code x} in {@code dtype}, on x's manager and device; {@code x} itself when it already has that dtype, so that
     * a computation whose dtypes agree runs exactly as it would without the cast.
     */
    public static NDArray to(NDArray x, DataType dtype) {
        if (x.getDataType() == dtype) {
            return x;
        }
        NDArray copy = x.getManager().create(x.getShape(), dtype); // uninitialised: every element is written below
        copy.set(ALL, x);
        return copy;
    }
}
