package dev.streamtune.lm.io;

/** The safetensors element types this runtime reads and writes, with their sizes in bytes. */
public enum TensorDtype {
    F64(8),
    F32(4),
    F16(2),
    BF16(2),
    I64(8),
    I32(4),
    I16(2),
    I8(1),
    U8(1),
    BOOL(1);

    private final int bytes;

    TensorDtype(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }
}
