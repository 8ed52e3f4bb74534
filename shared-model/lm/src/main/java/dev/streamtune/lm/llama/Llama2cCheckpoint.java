package dev.streamtune.lm.llama;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;

/**
 * Reads Karpathy's llama2.c checkpoint format (the legacy version 0 layout of {@code run.c}): seven little-endian
 * int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len; a negative vocab_size means an
 * unshared classifier follows), then float32 tensors in a fixed order, weights stored [out, in]. Queries and keys
 * keep llama2.c's interleaved rotary pairs, so the model is built with {@link RopeStyle#INTERLEAVED}.
 */
public final class Llama2cCheckpoint {

    private static final int HEADER_BYTES = 7 * Integer.BYTES;

    private Llama2cCheckpoint() {}

    /** The configuration and the weights, under Hugging Face names, on {@code manager}'s device. */
    public record Loaded(LlamaConfig config, LlamaWeights weights) {}

    /** The configuration alone, from the header: what a recipe is checked against before any weight is read. */
    public static LlamaConfig config(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer header = ByteBuffer.allocate(HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            while (header.hasRemaining() && channel.read(header) >= 0) {
                // read the seven int32 fields
            }
            if (header.hasRemaining()) {
                throw new IOException(file + " is " + channel.size() + " bytes: too short for a llama2.c header");
            }
            header.flip();
            int[] fields = new int[7];
            for (int i = 0; i < fields.length; i++) {
                fields[i] = header.getInt();
            }
            int dim = fields[0];
            int heads = fields[3];
            if (dim <= 0
                    || fields[1] <= 0
                    || fields[2] <= 0
                    || heads <= 0
                    || fields[4] <= 0
                    || fields[6] <= 0
                    || dim % heads != 0) {
                throw new IOException(file + ": implausible llama2.c header " + Arrays.toString(fields));
            }
            return new LlamaConfig(
                    dim,
                    fields[1],
                    fields[2],
                    heads,
                    fields[4],
                    Math.abs(fields[5]),
                    fields[6],
                    10000.0,
                    1e-5,
                    RopeStyle.INTERLEAVED,
                    fields[5] > 0,
                    null);
        }
    }

    public static Loaded read(Path file, NDManager manager) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < HEADER_BYTES) {
                throw new IOException(file + " is " + size + " bytes: too short for a llama2.c header");
            }
            ByteBuffer bytes =
                    channel.map(FileChannel.MapMode.READ_ONLY, 0, size).order(ByteOrder.LITTLE_ENDIAN);
            int dim = bytes.getInt();
            int hidden = bytes.getInt();
            int layers = bytes.getInt();
            int heads = bytes.getInt();
            int kvHeads = bytes.getInt();
            int vocabField = bytes.getInt();
            int seqLen = bytes.getInt();
            boolean shared = vocabField > 0;
            int vocab = Math.abs(vocabField);
            if (dim <= 0
                    || hidden <= 0
                    || layers <= 0
                    || heads <= 0
                    || kvHeads <= 0
                    || seqLen <= 0
                    || dim % heads != 0) {
                throw new IOException(file + ": implausible llama2.c header dim=" + dim + " hidden=" + hidden
                        + " layers=" + layers + " heads=" + heads + " kv_heads=" + kvHeads + " vocab=" + vocab
                        + " seq_len=" + seqLen);
            }
            LlamaConfig config = new LlamaConfig(
                    dim,
                    hidden,
                    layers,
                    heads,
                    kvHeads,
                    vocab,
                    seqLen,
                    10000.0,
                    1e-5,
                    RopeStyle.INTERLEAVED,
                    shared,
                    null);
            int headDim = config.headDim();
            int kvDim = config.kvDim();
            long floats = (long) vocab * dim
                    + (long) layers * (2L * dim + 2L * dim * dim + 2L * kvDim * dim + 3L * hidden * dim)
                    + dim
                    + (long) seqLen * headDim
                    + (shared ? 0 : (long) vocab * dim);
            if (size != HEADER_BYTES + floats * Float.BYTES) {
                throw new IOException(
                        file + " is " + size + " bytes but its header describes " + (HEADER_BYTES + floats * 4)
                                + " bytes (dim=" + dim + ", layers=" + layers + ", vocab=" + vocab + ")");
            }
            FloatBuffer data = bytes.slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
            LlamaWeights weights = new LlamaWeights();
            weights.put("model.embed_tokens.weight", take(manager, data, new Shape(vocab, dim)));
            perLayer(manager, data, weights, layers, "input_layernorm.weight", new Shape(dim));
            perLayer(manager, data, weights, layers, "self_attn.q_proj.weight", new Shape(dim, dim));
            perLayer(manager, data, weights, layers, "self_attn.k_proj.weight", new Shape(kvDim, dim));
            perLayer(manager, data, weights, layers, "self_attn.v_proj.weight", new Shape(kvDim, dim));
            perLayer(manager, data, weights, layers, "self_attn.o_proj.weight", new Shape(dim, dim));
            perLayer(manager, data, weights, layers, "post_attention_layernorm.weight", new Shape(dim));
            perLayer(manager, data, weights, layers, "mlp.gate_proj.weight", new Shape(hidden, dim));
            perLayer(manager, data, weights, layers, "mlp.down_proj.weight", new Shape(dim, hidden));
            perLayer(manager, data, weights, layers, "mlp.up_proj.weight", new Shape(hidden, dim));
            weights.put("model.norm.weight", take(manager, data, new Shape(dim)));
            data.position(data.position() + seqLen * headDim); // freq_cis_real and _imag: recomputed, not read
            if (!shared) {
                weights.put("lm_head.weight", take(manager, data, new Shape(vocab, dim)));
            }
            return new Loaded(config, weights);
        }
    }

    private static void perLayer(
            NDManager manager, FloatBuffer data, LlamaWeights weights, int layers, String name, Shape shape) {
        for (int layer = 0; layer < layers; layer++) {
            weights.put(LlamaWeights.layer(layer, name), take(manager, data, shape));
        }
    }

    private static NDArray take(NDManager manager, FloatBuffer data, Shape shape) {
        float[] values = new float[Math.toIntExact(shape.size())];
        data.get(values);
        return manager.create(values, shape);
    }
}
