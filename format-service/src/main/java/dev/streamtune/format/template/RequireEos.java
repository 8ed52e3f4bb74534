package dev.streamtune.format.template;

/** Templates that end a response with the tokenizer's EOS cannot work without knowing its text. */
final class RequireEos {

    private RequireEos() {}

    static String of(String eos, String template) {
        if (eos == null || eos.isEmpty()) {
            throw new IllegalArgumentException("the " + template + " template ends every response with the tokenizer's"
                    + " EOS token, which must be trained for the model to learn to stop: set data_config.eos_token,"
                    + " or point model_config.pretrained_model_name_or_path at a folder with tokenizer_config.json");
        }
        return eos;
    }
}
