package dev.streamtune.lm.llama;

/**
 * Llama 3's rope scaling ({@code rope_type: llama3}): rotary frequencies whose wavelength exceeds
 * {@code originalMaxPositions / lowFreqFactor} are divided by {@code factor}, those below
 * {@code originalMaxPositions / highFreqFactor} are kept, and those between are interpolated smoothly.
 */
public record RopeScaling(double factor, double lowFreqFactor, double highFreqFactor, int originalMaxPositions) {

    /** The scaled inverse frequency of one rotary pair. */
    public double scale(double inverseFrequency) {
        double wavelength = 2 * Math.PI / inverseFrequency;
        double lowFrequencyWavelength = originalMaxPositions / lowFreqFactor;
        double highFrequencyWavelength = originalMaxPositions / highFreqFactor;
        if (wavelength < highFrequencyWavelength) {
            return inverseFrequency;
        }
        if (wavelength > lowFrequencyWavelength) {
            return inverseFrequency / factor;
        }
        double smooth = (originalMaxPositions / wavelength - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
        return (1 - smooth) * inverseFrequency / factor + smooth * inverseFrequency;
    }
}
