package dev.streamtune.lm.runtime;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.util.Map;

/**
 * The two dtypes of a model run. {@code compute} holds the weights and activations and runs the matrix multiplies;
 * {@code wide} runs the steps that lose too much in a 16-bit type, where Hugging Face widens a bfloat16 model to
 * float32: the norms' statistics (RMSNorm, LayerNorm), the attention softmax, the loss's log-softmax and sum, and
 * AdamW's moments and update. With both dtypes equal (float32, the CPU's case) nothing is cast anywhere and every
 * result is bit for bit what it was before this class existed.
 *
 * @param compute the weights' and activations' dtype
 * @param wide    the dtype of the precision-sensitive steps, at least as wide as {@code compute}
 */
public record Precision(DataType compute, DataType wide) {

    /** Everything in float32. */
    public static final Precision FLOAT32 = new Precision(DataType.FLOAT32, DataType.FLOAT32);

    public Precision {
        if (!compute.isFloating() || !wide.isFloating() || wide.getNumOfBytes() < compute.getNumOfBytes()) {
            throw new IllegalArgumentException("precision needs floating-point dtypes with wide at least as wide as"
                    + " compute, got compute " + compute + ", wide " + wide);
        }
    }

    /**
     * The usual pairing for a compute dtype: float32 steps for the 16-bit types (bfloat16, float16), as Hugging Face
     * does; the compute dtype itself otherwise, so that float64 checks stay float64 throughout.
     */
    public static Precision of(DataType compute) {
        boolean sixteenBits = compute == DataType.BFLOAT16 || compute == DataType.FLOAT16;
        return new Precision(compute, sixteenBits ? DataType.FLOAT32 : compute);
    }

    /** Whether anything is cast at all. */
    public boolean mixed() {
        return compute != wide;
    }

    /** {@code x} in the wide dtype, differentiably; {@code x} itself when it is already. */
    public NDArray widen(NDArray x) {
        return DifferentiableCast.to(x, wide);
    }

    /** {@code x} back in the compute dtype, differentiably; {@code x} itself when it is already. */
    public NDArray narrow(NDArray x) {
        return DifferentiableCast.to(x, compute);
    }

    /**
     * Converts every floating-point tensor of a checkpoint's map to the compute dtype, in place, names kept and
     * originals closed (their memory is what loading in a narrower dtype saves). Before training only: the copies
     * are new tensors, not recorded and not marked for gradients.
     */
    public void convert(Map<String, NDArray> tensors) {
        for (Map.Entry<String, NDArray> entry : tensors.entrySet()) {
            NDArray tensor = entry.getValue();
            if (tensor.getDataType().isFloating() && tensor.getDataType() != compute) {
                NDArray converted = tensor.toType(compute, false);
                converted.setName(tensor.getName()); // DJL's toType does not carry the name over
                tensor.close();
                entry.setValue(converted);
            }
        }
    }

    @Override
    public String toString() {
        return mixed() ? compute + " (" + wide + " norms, softmax, loss and optimiser state)" : compute.toString();
    }
}
