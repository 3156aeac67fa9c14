"""The released checkpoint's tensor names and shapes, and the one remap onto our modules.

For the release's params.json the manifest has exactly 386 tensors, all BF16:
235 backbone (26 layers x 9 + final norm), 2 embedding tables, 33 acoustic transformer and 116 codec
decoder tensors. The codec encoder (``audio_tokenizer.input_proj.*``, ``audio_tokenizer.encoder_blocks.*``)
was not released, and ``acoustic_transformer.time_embedding.inv_freq`` is recomputed, never stored.
"""

from __future__ import annotations

from engine.config import ModelConfig
from engine.nn.flow_head import pad_to

RELEASE_DTYPE = "BF16"

# release prefix -> (our module, our prefix). The only renames; everything below a prefix keeps its name.
REMAP: tuple[tuple[str, str, str], ...] = (
    ("mm_audio_embeddings.tok_embeddings.", "tts", "tok_embeddings."),
    ("mm_audio_embeddings.audio_codebook_embeddings.", "tts", "audio_embeddings."),
    ("acoustic_transformer.", "tts", "acoustic_transformer."),
    ("audio_tokenizer.", "codec", ""),
    ("layers.", "tts", "backbone.layers."),
    ("norm.", "tts", "backbone.norm."),
)


def to_engine(name: str) -> tuple[str, str]:
    """Release tensor name -> (``tts`` or ``codec``, our state-dict key). KeyError if unknown."""
    for release, part, ours in REMAP:
        if name.startswith(release):
            return part, ours + name[len(release):]
    raise KeyError(name)


def to_release(part: str, key: str) -> str:
    """Our (part, state-dict key) -> the release tensor name (inverse of ``to_engine``)."""
    for release, p, ours in REMAP:
        if p == part and key.startswith(ours):
            return release + key[len(ours):]
    raise KeyError((part, key))


Shape = tuple[int, ...]


def _transformer_layer(p: str, dim: int, n_heads: int, n_kv: int, head_dim: int, hidden: int) -> dict[str, Shape]:
    return {
        f"{p}attention.wq.weight": (n_heads * head_dim, dim),
        f"{p}attention.wk.weight": (n_kv * head_dim, dim),
        f"{p}attention.wv.weight": (n_kv * head_dim, dim),
        f"{p}attention.wo.weight": (dim, n_heads * head_dim),
        f"{p}attention_norm.weight": (dim,),
        f"{p}ffn_norm.weight": (dim,),
        f"{p}feed_forward.w1.weight": (hidden, dim),
        f"{p}feed_forward.w2.weight": (dim, hidden),
        f"{p}feed_forward.w3.weight": (hidden, dim),
    }


def _weight_norm(p: str, cout: int, cin: int, kernel: int) -> dict[str, Shape]:
    """A weight-normed conv: g [dim0, 1, 1] and v (Conv1d [out, in, k]; ConvTranspose1d [in, out, k])."""
    return {f"{p}.parametrizations.weight.original0": (cout, 1, 1),
            f"{p}.parametrizations.weight.original1": (cout, cin, kernel)}


def release_manifest(cfg: ModelConfig) -> dict[str, Shape]:
    """Every tensor the released layout has for this config: name -> shape (all BF16)."""
    t, b, f, c = cfg.tts, cfg.tts.backbone, cfg.tts.flow, cfg.codec
    m: dict[str, Shape] = {}
    for i in range(b.n_layers):
        m |= _transformer_layer(f"layers.{i}.", b.dim, b.n_heads, b.n_kv_heads, b.head_dim, b.hidden_dim)
    m["norm.weight"] = (b.dim,)
    m["mm_audio_embeddings.tok_embeddings.weight"] = (b.vocab_size, b.dim)
    n_audio = (t.semantic_codebook_size + 2) + t.acoustic_dim * (t.acoustic_levels + 2)
    m["mm_audio_embeddings.audio_codebook_embeddings.embeddings.weight"] = (pad_to(n_audio), b.dim)
    a = "acoustic_transformer."
    for i in range(f.n_layers):
        m |= _transformer_layer(f"{a}layers.{i}.", f.dim, f.n_heads, f.n_kv_heads, f.head_dim, f.hidden_dim)
    m[f"{a}input_projection.weight"] = (f.dim, t.acoustic_dim)
    m[f"{a}llm_projection.weight"] = (f.dim, b.dim)
    m[f"{a}time_projection.weight"] = (f.dim, f.dim)
    m[f"{a}norm.weight"] = (f.dim,)
    m[f"{a}semantic_codebook_output.weight"] = (pad_to(t.semantic_codebook_size + 2), b.dim)
    m[f"{a}acoustic_codebook_output.weight"] = (t.acoustic_dim, f.dim)
    d = "audio_tokenizer."
    m |= _weight_norm(f"{d}decoder_blocks.0.conv", c.dim, c.latent_dim, c.decoder_kernels[0])
    block = 1
    for i, n_layers in enumerate(c.decoder_transformer_lengths):
        for j in range(n_layers):
            p = f"{d}decoder_blocks.{block}.layers.{j}."
            m |= _transformer_layer(p, c.dim, c.n_heads, c.n_heads, c.head_dim, c.hidden_dim)
            m[f"{p}attention.q_norm.weight"] = (c.n_heads * c.head_dim,)
            m[f"{p}attention.k_norm.weight"] = (c.n_heads * c.head_dim,)
            m[f"{p}attention_scale"] = (c.dim,)
            m[f"{p}ffn_scale"] = (c.dim,)
        block += 1
        if i + 1 < len(c.decoder_kernels):
            m |= _weight_norm(f"{d}decoder_blocks.{block}.conv", c.dim, c.dim, c.decoder_kernels[i + 1])
            block += 1
    m |= _weight_norm(f"{d}output_proj.conv", c.patch_size, c.dim, c.patch_proj_kernel_size)
    m[f"{d}quantizer.semantic_codebook.embedding_sum"] = (c.semantic_codebook_size, c.semantic_dim)
    m[f"{d}quantizer.semantic_codebook.cluster_usage"] = (c.semantic_codebook_size,)
    return m


def manifest_problems(header: dict[str, tuple[str, Shape]], expected: dict[str, Shape]) -> list[str]:
    """Compare a safetensors header (name -> (dtype, shape)) with the manifest; [] when it matches.

    Each problem names the tensor and what is wrong with it; missing tensors come first.
    """
    problems = [f"missing tensor {k} {list(expected[k])}" for k in sorted(set(expected) - set(header))]
    for k in sorted(set(header) - set(expected)):
        why = ("the codec encoder was not part of the release" if k.startswith(
            ("audio_tokenizer.input_proj.", "audio_tokenizer.encoder_blocks.")) else "not in the released layout")
        problems.append(f"unexpected tensor {k} ({why})")
    for k in sorted(set(header) & set(expected)):
        dtype, shape = header[k]
        if tuple(shape) != expected[k]:
            problems.append(f"wrong shape for {k}: {list(shape)}, expected {list(expected[k])}")
        elif dtype != RELEASE_DTYPE:
            problems.append(f"wrong dtype for {k}: {dtype}, expected {RELEASE_DTYPE}")
    return problems
