package dev.streamtune.events.recipe;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * How the base model's weights are held, under the keys of transformers' {@code BitsAndBytesConfig}: QLoRA's 4-bit
 * base ({@code load_in_4bit}). The parser gathers these keys wherever users write them (flat in model_config or at
 * the top, TRL's {@code use_bnb_nested_quant}, LLaMA-Factory's {@code quantization_bit}, or under
 * {@code quantization_config}, {@code bnb_config} or Axolotl's {@code bnb_config_kwargs}) into
 * {@code model_config.quantization_config}. Values are as written; what is left out takes the QLoRA paper's
 * settings (nf4, double quantisation), as TRL, Axolotl and LLaMA-Factory default to.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record QuantizationConfig(
        @JsonProperty("load_in_4bit") Boolean loadIn4bit,
        @JsonProperty("load_in_8bit") Boolean loadIn8bit,
        @JsonProperty("bnb_4bit_quant_type") String quantType,
        @JsonProperty("bnb_4bit_use_double_quant") Boolean useDoubleQuant,
        @JsonProperty("bnb_4bit_compute_dtype") String computeDtype) {

    /** Whether the base is held in 4 bits. */
    @JsonIgnore
    public boolean fourBit() {
        return Boolean.TRUE.equals(loadIn4bit);
    }

    /** nf4 or fp4; nf4 when not given. */
    @JsonIgnore
    public String quantTypeOrDefault() {
        return quantType == null ? RecipeDefaults.BNB_4BIT_QUANT_TYPE : quantType;
    }

    /** Double quantisation of the block scales; on when not given. */
    @JsonIgnore
    public boolean doubleQuantOrDefault() {
        return useDoubleQuant == null ? RecipeDefaults.BNB_4BIT_USE_DOUBLE_QUANT : useDoubleQuant;
    }
}
