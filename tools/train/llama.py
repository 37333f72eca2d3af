"""LlamaForCausalLM in plain PyTorch, computing what transformers 4.48
computes for `model_type: llama` (eager attention, the default rotary
embedding), with the same parameter names, so that its state dict is a
checkpoint elang loads:

  norm(x)     = w · x / sqrt(mean(x²) + eps)            (RMSNorm, in float32)
  rotary      = q·cos + rotate_half(q)·sin, likewise k, where feature i of a
                head turns with feature i + d/2 by pos · theta^(-2i/d)
                (inv_freq and the angles in float32)
  attention   = softmax(q·kᵀ/sqrt(d) + causal and padding mask) · v, through
                o_proj; key/value heads shared by groups of query heads
  each layer  : x += attention(norm(x)); x += down(silu(gate(norm(x))) · up(norm(x)))
  logits      = lm_head(norm(x)), lm_head tied to embed_tokens when the config
                says so (then not stored)

Positions count each row's real tokens (attention_mask.cumsum(-1) - 1, as
generate() numbers a left-padded batch); padded keys are masked out.
Dropout: none (Llama has attention_dropout 0 and no other).
"""

import torch
from torch import nn
from torch.nn import functional as F


def llama_config(vocab_size, hidden, layers, heads, kv_heads, intermediate, max_positions, rope_theta=10000.0,
                 tie=True, bos=1, eos=2):
    """config.json of a LlamaForCausalLM."""
    return {
        "architectures": ["LlamaForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "bos_token_id": bos,
        "eos_token_id": eos,
        "head_dim": hidden // heads,
        "hidden_act": "silu",
        "hidden_size": hidden,
        "initializer_range": 0.02,
        "intermediate_size": intermediate,
        "max_position_embeddings": max_positions,
        "mlp_bias": False,
        "model_type": "llama",
        "num_attention_heads": heads,
        "num_hidden_layers": layers,
        "num_key_value_heads": kv_heads,
        "pretraining_tp": 1,
        "rms_norm_eps": 1e-05,
        "rope_scaling": None,
        "rope_theta": rope_theta,
        "tie_word_embeddings": tie,
        "torch_dtype": "float16",
        "use_cache": True,
        "vocab_size": vocab_size,
    }


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        x32 = x.float()
        return self.weight * (x32 * torch.rsqrt(x32.pow(2).mean(-1, keepdim=True) + self.eps)).to(x.dtype)


def rotary(head_dim, theta, positions):
    """cos, sin [B, S, head_dim] for positions [B, S]: LlamaRotaryEmbedding."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
    freqs = positions.float()[..., None] * inv_freq
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads, self.kv_heads, self.d = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
        h = c["hidden_size"]
        self.q_proj = nn.Linear(h, self.heads * self.d, bias=False)
        self.k_proj = nn.Linear(h, self.kv_heads * self.d, bias=False)
        self.v_proj = nn.Linear(h, self.kv_heads * self.d, bias=False)
        self.o_proj = nn.Linear(self.heads * self.d, h, bias=False)

    def forward(self, x, cos, sin, bias, cache=None, index=0):
        """x [B, S, h]; cos, sin [B, S, d]; bias [B, 1, S, P + S] additive
        mask over the P cached positions and these S. cache: None, or the
        list of each layer's (k, v) [B, kv_heads, P, d] after rotary (what
        transformers' DynamicCache keeps), extended in place at `index`."""
        B, S, _ = x.shape
        q = self.q_proj(x).view(B, S, self.heads, self.d).transpose(1, 2)
        k = self.k_proj(x).view(B, S, self.kv_heads, self.d).transpose(1, 2)
        v = self.v_proj(x).view(B, S, self.kv_heads, self.d).transpose(1, 2)
        cos, sin = cos[:, None], sin[:, None]
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        if cache is not None:
            if index < len(cache):
                k, v = torch.cat([cache[index][0], k], 2), torch.cat([cache[index][1], v], 2)
                cache[index] = (k, v)
            else:
                cache.append((k, v))
        group = self.heads // self.kv_heads
        k, v = k.repeat_interleave(group, dim=1), v.repeat_interleave(group, dim=1)
        scores = q @ k.transpose(-1, -2) / (self.d ** 0.5) + bias
        probs = torch.softmax(scores.float(), dim=-1).to(q.dtype)
        out = (probs @ v).transpose(1, 2).reshape(B, S, self.heads * self.d)
        return self.o_proj(out)


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        h, i = c["hidden_size"], c["intermediate_size"]
        self.gate_proj = nn.Linear(h, i, bias=False)
        self.up_proj = nn.Linear(h, i, bias=False)
        self.down_proj = nn.Linear(i, h, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.mlp = MLP(c)

    def forward(self, x, cos, sin, bias, cache=None, index=0):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, bias, cache, index)
        return x + self.mlp(self.post_attention_layernorm(x))


class Model(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList(Layer(c) for _ in range(c["num_hidden_layers"]))
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])


class LlamaForCausalLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.config = c
        self.model = Model(c)
        self.lm_head = nn.Linear(c["hidden_size"], c["vocab_size"], bias=False)
        if c.get("tie_word_embeddings", False):
            self.lm_head.weight = self.model.embed_tokens.weight
        for name, p in self.named_parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=c["initializer_range"])

    def state_dict_to_save(self):
        """The state dict as a checkpoint stores it (a tied lm_head is not)."""
        sd = self.state_dict()
        if self.config.get("tie_word_embeddings", False):
            sd.pop("lm_head.weight")
        return sd

    def load_state_dict(self, sd, strict=True):
        if self.config.get("tie_word_embeddings", False) and "lm_head.weight" not in sd:
            sd = dict(sd, **{"lm_head.weight": sd["model.embed_tokens.weight"]})
        return super().load_state_dict(sd, strict)

    def hidden(self, ids, mask, cache=None):
        """Final normalised states [B, S, h] of ids [B, S]. mask [B, P + S]
        (1 = token) covers the P positions already in `cache` (see
        Attention.forward; None or empty: P = 0) and these S."""
        B, S = ids.shape
        P = mask.shape[1] - S
        positions = (mask.cumsum(-1) - 1).masked_fill(mask == 0, 1)[:, P:]
        cos, sin = rotary(self.config["head_dim"], self.config["rope_theta"], positions)
        causal = torch.ones(S, P + S, dtype=torch.bool).tril(P)
        allowed = causal[None] & mask[:, None, :].bool()
        bias = torch.zeros(B, 1, S, P + S).masked_fill(~allowed[:, None], torch.finfo(torch.float32).min)
        x = self.model.embed_tokens(ids)
        for index, layer in enumerate(self.model.layers):
            x = layer(x, cos, sin, bias, cache, index)
        return self.model.norm(x)

    def forward(self, ids, mask):
        """Logits [B, S, V]."""
        return self.lm_head(self.hidden(ids, mask))

    @torch.no_grad()
    def greedy(self, ids, mask, max_new, eos=None):
        """Greedy continuation of left-padded prompts with a key/value cache
        (as transformers' generate: the prompt once, then one token a step,
        the output layer only at the last position): the new ids of each
        row, up to and including eos."""
        eos = self.config["eos_token_id"] if eos is None else eos
        rows = [[] for _ in range(ids.shape[0])]
        done = [False] * ids.shape[0]
        cache = []
        states = self.hidden(ids, mask, cache)
        for step in range(max_new):
            nxt = self.lm_head(states[:, -1]).argmax(-1)
            for r, t in enumerate(nxt.tolist()):
                if not done[r]:
                    rows[r].append(t)
                    done[r] = t == eos
            if all(done) or step == max_new - 1:
                break
            mask = torch.cat([mask, torch.ones_like(mask[:, :1])], 1)
            states = self.hidden(nxt[:, None], mask, cache)
        return rows
