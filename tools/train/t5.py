"""T5ForConditionalGeneration (T5 v1.0) in plain PyTorch, computing what
transformers 4.25 computes for `model_type: t5` with `feed_forward_proj:
relu` and tied embeddings, with the same parameter names, so that the state
dict (without the tied lm_head) is a checkpoint elang loads:

  norm(x)        = w · x / sqrt(mean(x²) + eps)       (RMS norm, no bias, no mean)
  attention      = softmax(Q·Kᵀ + position_bias + mask) · V, then ·Wo
                   (no 1/sqrt(d) scaling, no biases anywhere)
  position_bias  = a learned scalar per head and relative-position bucket,
                   only in the first layer of each stack and reused by the
                   others; buckets are bidirectional in the encoder, causal
                   in the decoder; cross-attention has none
  each block     : x += SelfAttention(norm(x)); (decoder: x += CrossAttention(norm(x), enc));
                   x += Wo·relu(Wi·norm(x))
  each stack ends with final_layer_norm
  logits         = (decoder output · d_model^-0.5) · sharedᵀ

Dropout (after attention probabilities, inside the feed-forward, on every
residual branch and on the embeddings and stack outputs, as transformers
places it) is active in training only.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F

PAD, EOS = 0, 1


def t5_config(vocab_size, d_model, d_ff, d_kv, heads, layers, decoder_layers, dropout=0.1):
    """config.json of a T5 v1.0 model (decoder start = pad = 0, eos = 1)."""
    return {
        "architectures": ["T5ForConditionalGeneration"],
        "d_ff": d_ff,
        "d_kv": d_kv,
        "d_model": d_model,
        "decoder_start_token_id": PAD,
        "dense_act_fn": "relu",
        "dropout_rate": dropout,
        "eos_token_id": EOS,
        "feed_forward_proj": "relu",
        "initializer_factor": 1.0,
        "is_encoder_decoder": True,
        "is_gated_act": False,
        "layer_norm_epsilon": 1e-06,
        "model_type": "t5",
        "num_decoder_layers": decoder_layers,
        "num_heads": heads,
        "num_layers": layers,
        "pad_token_id": PAD,
        "relative_attention_max_distance": 128,
        "relative_attention_num_buckets": 32,
        "tie_word_embeddings": True,
        "torch_dtype": "float16",
        "vocab_size": vocab_size,
    }


def relative_position_bucket(relative, bidirectional, num_buckets, max_distance):
    """T5's bucket of each relative position (key position − query
    position): half the buckets are exact small distances, the rest cover
    distances up to max_distance logarithmically; bidirectional buckets keep
    the sign in a top bit, causal ones fold every later position into 0."""
    bucket = torch.zeros_like(relative)
    if bidirectional:
        num_buckets //= 2
        bucket += (relative > 0).long() * num_buckets
        distance = relative.abs()
    else:
        distance = -torch.clamp(relative, max=0)
    exact = num_buckets // 2
    large = exact + (torch.log(distance.float() / exact) / math.log(max_distance / exact)
                     * (num_buckets - exact)).long()
    large = torch.clamp(large, max=num_buckets - 1)
    return bucket + torch.where(distance < exact, distance, large)


class LayerNorm(nn.Module):
    """T5's RMS norm."""

    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


class Attention(nn.Module):
    def __init__(self, c, causal, has_bias):
        super().__init__()
        inner = c["num_heads"] * c["d_kv"]
        self.heads, self.d_kv = c["num_heads"], c["d_kv"]
        self.q = nn.Linear(c["d_model"], inner, bias=False)
        self.k = nn.Linear(c["d_model"], inner, bias=False)
        self.v = nn.Linear(c["d_model"], inner, bias=False)
        self.o = nn.Linear(inner, c["d_model"], bias=False)
        self.causal = causal
        self.buckets = c["relative_attention_num_buckets"]
        self.max_distance = c["relative_attention_max_distance"]
        if has_bias:
            self.relative_attention_bias = nn.Embedding(self.buckets, self.heads)
        self.dropout = nn.Dropout(c["dropout_rate"])

    def position_bias(self, q_len, k_len, offset=0):
        """[1, heads, q_len, k_len]; query i sits at position offset + i."""
        context = torch.arange(offset, offset + q_len)[:, None]
        memory = torch.arange(k_len)[None, :]
        buckets = relative_position_bucket(memory - context, not self.causal, self.buckets, self.max_distance)
        return self.relative_attention_bias(buckets).permute(2, 0, 1)[None]

    def split(self, t):
        """[B, S, heads·d_kv] -> [B, heads, S, d_kv]"""
        return t.view(t.shape[0], -1, self.heads, self.d_kv).transpose(1, 2)

    def attend(self, q, k, v, bias):
        """softmax(q·kᵀ + bias)·v through o; q, k, v split into heads; bias
        broadcasts to [B, heads, Sq, Sk] (position bias plus additive mask)."""
        probs = self.dropout(torch.softmax((q @ k.transpose(-1, -2) + bias).float(), dim=-1))
        out = (probs @ v).transpose(1, 2)
        return self.o(out.reshape(out.shape[0], -1, self.heads * self.d_kv))

    def forward(self, x, kv, bias):
        """x [B, Sq, d] attends to kv [B, Sk, d]."""
        return self.attend(self.split(self.q(x)), self.split(self.k(kv)), self.split(self.v(kv)), bias)


class SelfAttentionLayer(nn.Module):
    def __init__(self, c, causal, has_bias):
        super().__init__()
        self.SelfAttention = Attention(c, causal, has_bias)
        self.layer_norm = LayerNorm(c["d_model"], c["layer_norm_epsilon"])
        self.dropout = nn.Dropout(c["dropout_rate"])

    def forward(self, x, bias):
        h = self.layer_norm(x)
        return x + self.dropout(self.SelfAttention(h, h, bias))


class CrossAttentionLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.EncDecAttention = Attention(c, causal=False, has_bias=False)
        self.layer_norm = LayerNorm(c["d_model"], c["layer_norm_epsilon"])
        self.dropout = nn.Dropout(c["dropout_rate"])

    def forward(self, x, encoded, mask):
        return x + self.dropout(self.EncDecAttention(self.layer_norm(x), encoded, mask))


class DenseReluDense(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.wi = nn.Linear(c["d_model"], c["d_ff"], bias=False)
        self.wo = nn.Linear(c["d_ff"], c["d_model"], bias=False)
        self.dropout = nn.Dropout(c["dropout_rate"])

    def forward(self, x):
        return self.wo(self.dropout(F.relu(self.wi(x))))


class FeedForwardLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.DenseReluDense = DenseReluDense(c)
        self.layer_norm = LayerNorm(c["d_model"], c["layer_norm_epsilon"])
        self.dropout = nn.Dropout(c["dropout_rate"])

    def forward(self, x):
        return x + self.dropout(self.DenseReluDense(self.layer_norm(x)))


class Block(nn.Module):
    def __init__(self, c, decoder, has_bias):
        super().__init__()
        layers = [SelfAttentionLayer(c, decoder, has_bias)]
        if decoder:
            layers.append(CrossAttentionLayer(c))
        layers.append(FeedForwardLayer(c))
        self.layer = nn.ModuleList(layers)

    def forward(self, x, self_bias, encoded=None, cross_mask=None):
        x = self.layer[0](x, self_bias)
        if encoded is not None:
            x = self.layer[1](x, encoded, cross_mask)
        return self.layer[-1](x)


def additive_mask(mask):
    """[B, 1, 1, S] of 0 (attend) and the smallest float (padding)."""
    return (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min


class Stack(nn.Module):
    def __init__(self, c, decoder):
        super().__init__()
        n = c["num_decoder_layers"] if decoder else c["num_layers"]
        self.block = nn.ModuleList(Block(c, decoder, has_bias=i == 0) for i in range(n))
        self.final_layer_norm = LayerNorm(c["d_model"], c["layer_norm_epsilon"])
        self.dropout = nn.Dropout(c["dropout_rate"])
        self.decoder = decoder

    def forward(self, embedded, mask, encoded=None, encoder_mask=None):
        """embedded [B, S, d]; mask [B, S] (1 = token; the decoder's is
        combined with the causal mask); for the decoder, the encoder output
        and its mask. Returns [B, S, d]."""
        S = embedded.shape[1]
        bias = self.block[0].layer[0].SelfAttention.position_bias(S, S)
        if self.decoder:
            causal = torch.tril(torch.ones(S, S, dtype=torch.long))
            visible = mask[:, None, None, :] * causal[None, None]
            bias = bias + (1.0 - visible.float()) * torch.finfo(torch.float32).min
            cross = additive_mask(encoder_mask)
        else:
            bias = bias + additive_mask(mask)
            cross = None
        x = self.dropout(embedded)
        for block in self.block:
            x = block(x, bias, encoded, cross)
        return self.dropout(self.final_layer_norm(x))

    def step(self, embedded, position, cache, encoded, encoder_mask):
        """The decoder on one new token per row: embedded [B, 1, d] at
        `position`, attending to itself and the earlier positions, whose
        self-attention keys and values `cache` holds (one (k, v) per block,
        None at first; extended here), and to the encoder output, whose keys
        and values are cached under ("cross", i). Returns [B, 1, d]."""
        bias = self.block[0].layer[0].SelfAttention.position_bias(1, position + 1, offset=position)
        cross_bias = additive_mask(encoder_mask)
        x = self.dropout(embedded)
        for i, block in enumerate(self.block):
            sa, ca, ff = block.layer
            att, h = sa.SelfAttention, sa.layer_norm(x)
            k, v = att.split(att.k(h)), att.split(att.v(h))
            if cache.get(i) is not None:
                k, v = torch.cat([cache[i][0], k], dim=2), torch.cat([cache[i][1], v], dim=2)
            cache[i] = (k, v)
            x = x + sa.dropout(att.attend(att.split(att.q(h)), k, v, bias))
            att, h = ca.EncDecAttention, ca.layer_norm(x)
            if ("cross", i) not in cache:
                cache[("cross", i)] = (att.split(att.k(encoded)), att.split(att.v(encoded)))
            x = x + ca.dropout(att.attend(att.split(att.q(h)), *cache[("cross", i)], cross_bias))
            x = ff(x)
        return self.dropout(self.final_layer_norm(x))


class T5ForConditionalGeneration(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.shared = nn.Embedding(c["vocab_size"], c["d_model"])
        self.encoder = Stack(c, decoder=False)
        self.decoder = Stack(c, decoder=True)
        self.apply(self._init)

    def _init(self, module):
        """T5's initialisation (initializer_factor 1): embeddings N(0, 1);
        q N(0, (d_model·d_kv)^-1/2), k, v N(0, d_model^-1/2), o N(0,
        (heads·d_kv)^-1/2); wi N(0, d_model^-1/2), wo N(0, d_ff^-1/2);
        position biases N(0, d_model^-1/2); norms 1."""
        c = self.config
        d, kv, h = c["d_model"], c["d_kv"], c["num_heads"]
        if module is self:
            nn.init.normal_(self.shared.weight, std=1.0)
        elif isinstance(module, Attention):
            nn.init.normal_(module.q.weight, std=(d * kv) ** -0.5)
            nn.init.normal_(module.k.weight, std=d ** -0.5)
            nn.init.normal_(module.v.weight, std=d ** -0.5)
            nn.init.normal_(module.o.weight, std=(h * kv) ** -0.5)
            if hasattr(module, "relative_attention_bias"):
                nn.init.normal_(module.relative_attention_bias.weight, std=d ** -0.5)
        elif isinstance(module, DenseReluDense):
            nn.init.normal_(module.wi.weight, std=d ** -0.5)
            nn.init.normal_(module.wo.weight, std=c["d_ff"] ** -0.5)

    def encode(self, ids, mask):
        return self.encoder(self.shared(ids), mask)

    def lm_head(self, x):
        """Tied output layer: (x · d_model^-0.5) · sharedᵀ."""
        return (x * self.config["d_model"] ** -0.5) @ self.shared.weight.t()

    def first_step_logits(self, encoded, mask):
        """[B, vocab] logits of the first decoding step (the decoder start
        token, <pad>, attending to the encoder output [B, S, d_model])."""
        first = torch.full((encoded.shape[0], 1), PAD, dtype=torch.long)
        return self.lm_head(self.decoder(self.shared(first), torch.ones_like(first), encoded, mask))[:, 0]

    def teacher_forced(self, ids, mask, labels):
        """Decoder output [B, T, d_model] (before the lm_head) for labels
        [B, T] (padding = -100) given the sources: the decoder reads the
        labels shifted right behind the decoder start token (<pad> in place
        of -100), with no decoder padding mask, as transformers does when
        none is given."""
        decoder_ids = torch.cat([torch.full_like(labels[:, :1], PAD), labels[:, :-1]], dim=1).clamp(min=0)
        return self.decoder(self.shared(decoder_ids), torch.ones_like(decoder_ids), self.encode(ids, mask), mask)

    @torch.no_grad()
    def greedy(self, ids, mask, max_new_tokens, energy_scores=None):
        """Greedy decoding of a batch, as transformers' generate(num_beams=1):
        start from the decoder start token, append the arg-max token, stop a
        row at </s> and feed it <pad> afterwards. Returns one id list per row
        (the start token, the generated tokens, </s> if produced) and, per
        row, the gap between the two best logits at each step. When
        energy_scores is a list, one list per row is appended to it: each
        generated token's step's energy score log Σ exp(logits) (-E at T = 1,
        what elang's routing score `energy` takes per step)."""
        encoded = self.encode(ids, mask)
        B = ids.shape[0]
        token = torch.full((B,), PAD, dtype=torch.long)
        done = torch.zeros(B, dtype=torch.bool)
        rows, margins, cache = [[PAD] for _ in range(B)], [[] for _ in range(B)], {}
        energies = [[] for _ in range(B)]
        for position in range(max_new_tokens):
            logits = self.lm_head(self.decoder.step(self.shared(token)[:, None], position, cache, encoded, mask))[:, 0]
            top = logits.topk(2, dim=-1)
            lse = torch.logsumexp(logits.double(), dim=-1)
            token = torch.where(done, torch.full_like(token, PAD), top.indices[:, 0])
            for b in range(B):
                if not done[b]:
                    rows[b].append(token[b].item())
                    margins[b].append((top.values[b, 0] - top.values[b, 1]).item())
                    energies[b].append(lse[b].item())
            done |= token == EOS
            if done.all():
                break
        if energy_scores is not None:
            energy_scores += energies
        return rows, margins
