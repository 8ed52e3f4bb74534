package dev.streamtune.lm.quant;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.ByteBuffer;

/**
 * A frozen linear weight [out, in] held in 4 bits on the model's device: the packed indices as uint8 and the block
 * scales (float32, or 8-bit codes with their second-level scales). {@link #dequantize} rebuilds the weight in the
 * compute dtype for one use, with two table lookups and a multiply, all on the device:
 *
 * <pre>
 *   pairs[b]  = (code[b >> 4], code[b & 15])          for every byte value b (a [256, 2] table)
 *   W         = (pairs[packed] as [blocks, 64]) * scale[:, None],   trimmed to out * in and shaped [out, in]
 *   scale     = absmax,  or  map[scaleCodes] as [.., 256] * scaleAbsmax[:, None] + offset
 * </pre>
 *
 * The result is exactly {@link FourBitTensor#dequantize()} (the same float32 products), then cast.
 */
public final class QuantizedLinear implements AutoCloseable {

    private final FourBitType type;
    private final boolean doubleQuant;
    private final Shape shape;
    private final long size;
    private final NDArray packed; // uint8 [padded / 2]
    private final NDArray absmax; // float32 [blocks], or null
    private final NDArray scaleCodes; // uint8 [scale blocks * 256], or null
    private final NDArray scaleAbsmax; // float32 [scale blocks, 1], or null
    private final NDArray offset; // float32 [1], or null
    private final NDArray pairs; // float32 [256, 2]
    private final NDArray map; // float32 [256], or null

    private QuantizedLinear(FourBitTensor tensor, NDManager manager) {
        this.type = tensor.type();
        this.doubleQuant = tensor.doubleQuantized();
        this.shape = new Shape(tensor.shape());
        this.size = tensor.size();
        this.packed = bytes(manager, tensor.packed());
        this.pairs = manager.create(pairTable(type), new Shape(256, 2));
        if (doubleQuant) {
            this.absmax = null;
            this.scaleCodes = bytes(manager, tensor.scaleCodes());
            this.scaleAbsmax = manager.create(tensor.scaleAbsmax(), new Shape(tensor.scaleAbsmax().length, 1));
            this.offset = manager.create(new float[] {tensor.offset()});
            this.map = manager.create(DynamicMap.shared());
        } else {
            this.absmax = manager.create(tensor.absmax(), new Shape(tensor.absmax().length, 1));
            this.scaleCodes = null;
            this.scaleAbsmax = null;
            this.offset = null;
            this.map = null;
        }
    }

    /** Quantises {@code weight} (any float dtype, read as float32) onto {@code manager}'s device. */
    public static QuantizedLinear quantize(NDArray weight, FourBitType type, boolean doubleQuant, NDManager manager) {
        float[] values = weight.toType(DataType.FLOAT32, false).toFloatArray();
        return of(FourBitTensor.quantize(values, weight.getShape().getShape(), type, doubleQuant), manager);
    }

    public static QuantizedLinear of(FourBitTensor tensor, NDManager manager) {
        return new QuantizedLinear(tensor, manager);
    }

    public Shape shape() {
        return shape;
    }

    public FourBitType type() {
        return type;
    }

    public boolean doubleQuantized() {
        return doubleQuant;
    }

    /** The packed indices as stored (for checks that the base never changes). */
    public NDArray packed() {
        return packed;
    }

    /** The weight [out, in] in {@code dtype}, on {@code scope}: the caller closes it after use. */
    public NDArray dequantize(NDManager scope, DataType dtype) {
        try (NDManager work = scope.newSubManager()) {
            NDArray scales = blockScales(work);
            long blocks = scales.getShape().get(0);
            NDArray values = lookup(pairs, packed, work)
                    .reshape(blocks, FourBitTensor.BLOCK)
                    .mul(scales)
                    .reshape(-1);
            if (values.getShape().get(0) != size) {
                values = values.get(new NDIndex("0:" + size));
            }
            NDArray weight = values.reshape(shape).toType(dtype, false);
            weight.attach(scope);
            return weight;
        }
    }

    /** [blocks, 1] float32 scales. */
    private NDArray blockScales(NDManager work) {
        if (!doubleQuant) {
            return absmax;
        }
        long blocks = packed.getShape().get(0) * 2 / FourBitTensor.BLOCK;
        NDArray centred = lookup(map, scaleCodes, work)
                .reshape(scaleAbsmax.getShape().get(0), FourBitTensor.SCALE_BLOCK)
                .mul(scaleAbsmax)
                .reshape(-1);
        return centred.get(new NDIndex("0:" + blocks)).add(offset).reshape(blocks, 1);
    }

    /**
     * {@code table[indices]} on {@code work}: results of operations land on their left operand's manager, here the
     * weight's long-lived one, so both the widened indices and the lookup are moved to the call's scope.
     */
    private static NDArray lookup(NDArray table, NDArray indices, NDManager work) {
        NDArray wide = indices.toType(DataType.INT64, false);
        wide.attach(work);
        NDArray looked = table.get(wide);
        looked.attach(work);
        return looked;
    }

    /** Bytes held on the device for this weight (the shared 256-entry tables not counted). */
    public long bytes() {
        long bytes = packed.getShape().size();
        if (doubleQuant) {
            bytes += scaleCodes.getShape().size() + 4L * scaleAbsmax.getShape().size() + 4;
        } else {
            bytes += 4L * absmax.getShape().size();
        }
        return bytes;
    }

    /** Bytes the weight would take unquantised in {@code dtype}. */
    public long denseBytes(DataType dtype) {
        return size * dtype.getNumOfBytes();
    }

    private static NDArray bytes(NDManager manager, byte[] values) {
        ByteBuffer buffer = ByteBuffer.allocateDirect(values.length);
        buffer.put(values).rewind();
        return manager.create(buffer, new Shape(values.length), DataType.UINT8);
    }

    private static float[] pairTable(FourBitType type) {
        float[] table = new float[512];
        for (int b = 0; b < 256; b++) {
            table[2 * b] = type.value(b >>> 4);
            table[2 * b + 1] = type.value(b & 0x0F);
        }
        return table;
    }

    @Override
    public void close() {
        for (NDArray array : new NDArray[] {packed, absmax, scaleCodes, scaleAbsmax, offset, pairs, map}) {
            if (array != null) {
                array.close();
            }
        }
    }
}
