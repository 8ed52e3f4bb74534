"""Reference figures for QLoRA from bitsandbytes, transformers and PEFT, on a CUDA machine.

1. bitsandbytes' own 4-bit quantisation of fixed tensors (nf4 and fp4, with and without double quantisation):
   inputs, packed bytes, scales, nested scales, offsets, code tables and dequantised values, written as one
   safetensors file. shared-model/lm's BitsandbytesReferenceTest compares the Java quantiser with it byte for byte.
2. A training step of LoRA (bfloat16 base) against QLoRA (NF4, double quantisation, bfloat16 compute) on a
   1.1B-parameter Llama (TinyLlama's shape, random weights), with and without gradient checkpointing: peak GPU
   memory and step time, as PEFT and bitsandbytes give them (docs/PERFORMANCE.md).

Usage: python3 bench/device/qlora_reference.py OUT_DIR
"""
import json
import os
import struct
import sys
import tempfile
import time

import torch

OUT = sys.argv[1] if len(sys.argv) > 1 else "."


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name, tensor in tensors.items():
        t = tensor.detach().cpu().contiguous()
        dtype = {torch.float32: "F32", torch.uint8: "U8"}[t.dtype]
        data = t.numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text.encode())
        for blob in blobs:
            f.write(blob)


def bitsandbytes_reference():
    try:
        import bitsandbytes as bnb
        import bitsandbytes.functional as F
    except ImportError as e:
        print("bitsandbytes: not installed (%s): no quantisation reference" % e)
        return False
    print("bitsandbytes", bnb.__version__)
    generator = torch.Generator().manual_seed(0)
    inputs = {
        # 1280 blocks: five full scale blocks
        "wide": torch.randn(256, 320, generator=generator) * 0.02,
        # 30000 values: a partial last block and a partial last scale block; heavier tails
        "ragged": torch.randn(300, 100, generator=generator) ** 3 * 0.05,
    }
    tensors = {}
    for name, x in inputs.items():
        tensors[name + ".input"] = x
        for quant_type in ("nf4", "fp4"):
            for nested in (False, True):
                key = "%s.%s%s" % (name, quant_type, ".dq" if nested else "")
                packed, state = F.quantize_4bit(x.cuda(), blocksize=64, compress_statistics=nested,
                                                quant_type=quant_type)
                tensors[key + ".packed"] = packed.reshape(-1)
                tensors[key + ".code"] = state.code.float()
                if nested:
                    tensors[key + ".absmax_codes"] = state.absmax.reshape(-1)
                    tensors[key + ".absmax2"] = state.state2.absmax.float().reshape(-1)
                    tensors[key + ".offset"] = torch.as_tensor(state.offset, dtype=torch.float32).reshape(1)
                    tensors[key + ".dynamic_map"] = state.state2.code.float()
                else:
                    tensors[key + ".absmax"] = state.absmax.float().reshape(-1)
                tensors[key + ".dequantized"] = F.dequantize_4bit(packed, state).float().reshape(x.shape)
    path = os.path.join(OUT, "bitsandbytes-4bit-reference.safetensors")
    write_safetensors(path, tensors)
    print("wrote", path, os.path.getsize(path), "bytes,", len(tensors), "tensors")
    return True


def training_steps(have_bnb):
    import transformers
    import peft
    from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM
    print("torch", torch.__version__, "transformers", transformers.__version__, "peft", peft.__version__,
          "GPU", torch.cuda.get_device_name(0))
    config = LlamaConfig(hidden_size=2048, intermediate_size=5632, num_hidden_layers=22, num_attention_heads=32,
                         num_key_value_heads=4, vocab_size=32000, max_position_embeddings=2048, tie_word_embeddings=False)
    folder = tempfile.mkdtemp()
    torch.manual_seed(1)
    LlamaForCausalLM(config).to(torch.bfloat16).save_pretrained(folder)
    tokens = torch.randint(0, 32000, (1, 256), generator=torch.Generator().manual_seed(0)).cuda()
    for method in ("lora", "qlora") if have_bnb else ("lora",):
        for checkpointing in (False, True):
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
            kwargs = {"torch_dtype": torch.bfloat16, "device_map": "cuda"}
            if method == "qlora":
                kwargs["quantization_config"] = transformers.BitsAndBytesConfig(
                    load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True,
                    bnb_4bit_compute_dtype=torch.bfloat16)
            model = AutoModelForCausalLM.from_pretrained(folder, **kwargs)
            if checkpointing:
                model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
            model = peft.get_peft_model(model, peft.LoraConfig(r=8, lora_alpha=16, lora_dropout=0.0,
                                                               target_modules="all-linear", task_type="CAUSAL_LM"))
            optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
            built = torch.cuda.memory_allocated()
            torch.cuda.reset_peak_memory_stats()
            times, losses = [], []
            for step in range(7):
                torch.cuda.synchronize()
                start = time.perf_counter()
                loss = model(input_ids=tokens, labels=tokens).loss
                loss.backward()
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                torch.cuda.synchronize()
                losses.append(loss.item())
                if step >= 2:
                    times.append(time.perf_counter() - start)
            print("%-5s 1b %-12s weights+adapters on GPU %7.1f MiB  peak in steps %7.1f MiB  ms/step %6.1f"
                  "  tokens/s %7.0f  loss %.4f -> %.4f  (bf16, batch 1 x 256, 2 warmup + 5 timed steps)"
                  % (method, "checkpointed" if checkpointing else "plain", built / 2**20,
                     torch.cuda.max_memory_allocated() / 2**20, 1000 * sum(times) / len(times),
                     256 * len(times) / sum(times), losses[0], losses[-1]))
            del model, optimizer
            torch.cuda.empty_cache()


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    have_bnb = bitsandbytes_reference()
    training_steps(have_bnb)
