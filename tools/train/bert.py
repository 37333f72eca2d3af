"""BertForSequenceClassification in plain PyTorch, computing what
transformers 4.25 computes for `model_type: bert` with `hidden_act: gelu`
(erf GELU), absolute positions and post-layer-norm blocks, with the same
parameter names, so that state_dict() is a checkpoint elang loads:

  embeddings  = LayerNorm(word[ids] + position[0..S-1] + token_type[types])
  each layer  : a = LayerNorm(x + Wo·MultiHeadSelfAttention(x))
                x = LayerNorm(a + W2·gelu(W1·a))
  attention   : softmax(Q·Kᵀ/√d_head + mask) · V, padding masked with the
                smallest float, as transformers does
  pooled      = tanh(Wp·x[0] + bp)   (the [CLS] position)
  logits      = Wc·pooled + bc

Dropout (hidden and attention probabilities) is active in training only.
"""

import math

import torch
from torch import nn
from torch.nn import functional as F


def bert_config(vocab_size, hidden, layers, heads, intermediate, labels, max_positions=128, dropout=0.1):
    """config.json of a BertForSequenceClassification; labels[i] is the
    name of class i."""
    return {
        "architectures": ["BertForSequenceClassification"],
        "attention_probs_dropout_prob": dropout,
        "classifier_dropout": None,
        "hidden_act": "gelu",
        "hidden_dropout_prob": dropout,
        "hidden_size": hidden,
        "id2label": {str(i): name for i, name in enumerate(labels)},
        "initializer_range": 0.02,
        "intermediate_size": intermediate,
        "label2id": {name: i for i, name in enumerate(labels)},
        "layer_norm_eps": 1e-12,
        "max_position_embeddings": max_positions,
        "model_type": "bert",
        "num_attention_heads": heads,
        "num_hidden_layers": layers,
        "pad_token_id": 0,
        "position_embedding_type": "absolute",
        "torch_dtype": "float16",
        "type_vocab_size": 2,
        "vocab_size": vocab_size,
    }


class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"], padding_idx=c["pad_token_id"])
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["hidden_size"])
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, ids, types):
        positions = torch.arange(ids.shape[1], device=ids.device)
        x = self.word_embeddings(ids) + self.position_embeddings(positions)[None] + self.token_type_embeddings(types)
        return self.dropout(self.LayerNorm(x))


class SelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.heads = c["num_attention_heads"]
        self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)
        self.dropout = nn.Dropout(c["attention_probs_dropout_prob"])

    def forward(self, x, additive_mask):
        B, S, H = x.shape
        d = H // self.heads

        def split(t):
            return t.view(B, S, self.heads, d).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d) + additive_mask
        probs = self.dropout(torch.softmax(scores, dim=-1))
        return (probs @ v).transpose(1, 2).reshape(B, S, H)


class DenseNorm(nn.Module):
    """dense → dropout → LayerNorm(· + residual): BertSelfOutput and BertOutput."""

    def __init__(self, c, n_in):
        super().__init__()
        self.dense = nn.Linear(n_in, c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])

    def forward(self, x, residual):
        return self.LayerNorm(self.dropout(self.dense(x)) + residual)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = SelfAttention(c)
        self.output = DenseNorm(c, c["hidden_size"])

    def forward(self, x, additive_mask):
        return self.output(self.self(x, additive_mask), x)


class Intermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])

    def forward(self, x):
        return F.gelu(self.dense(x))


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = Attention(c)
        self.intermediate = Intermediate(c)
        self.output = DenseNorm(c, c["intermediate_size"])

    def forward(self, x, additive_mask):
        a = self.attention(x, additive_mask)
        return self.output(self.intermediate(a), a)


class Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList(Layer(c) for _ in range(c["num_hidden_layers"]))

    def forward(self, x, additive_mask):
        for layer in self.layer:
            x = layer(x, additive_mask)
        return x


class Pooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])

    def forward(self, x):
        return torch.tanh(self.dense(x[:, 0]))


class BertModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = Embeddings(c)
        self.encoder = Encoder(c)
        self.pooler = Pooler(c)

    def forward(self, ids, mask, types=None):
        """The last layer's states [B, S, hidden] (the pooler is applied by
        the classifier); types are the token type ids (0 everywhere when
        None)."""
        additive = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        return self.encoder(self.embeddings(ids, torch.zeros_like(ids) if types is None else types), additive)


class BertForSequenceClassification(nn.Module):
    """forward(ids, mask, types) -> logits [B, num_labels]; types, the token
    type ids of sentence pairs (0 for [CLS] a [SEP], 1 for b [SEP]), may be
    None for single sentences."""

    def __init__(self, c):
        super().__init__()
        self.bert = BertModel(c)
        self.dropout = nn.Dropout(c["hidden_dropout_prob"])
        self.classifier = nn.Linear(c["hidden_size"], len(c["id2label"]))
        self.apply(lambda m: self._init(m, c["initializer_range"]))

    @staticmethod
    def _init(module, std):
        """BERT's initialisation: N(0, 0.02) matrices and embeddings, zero
        biases, unit layer norms, a zero [PAD] embedding."""
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=std)
        if isinstance(module, nn.Linear):
            nn.init.zeros_(module.bias)
        if isinstance(module, nn.Embedding) and module.padding_idx is not None:
            with torch.no_grad():
                module.weight[module.padding_idx].zero_()
        if isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)

    def forward(self, ids, mask, types=None):
        return self.classifier(self.dropout(self.bert.pooler(self.bert(ids, mask, types))))


class MaskedLMHead(nn.Module):
    """BertForMaskedLM's prediction head (dense, GELU, LayerNorm, then the
    word embeddings transposed plus a bias), for pre-training the encoder of
    a BertForSequenceClassification on unlabelled text. It is not part of
    the exported model."""

    def __init__(self, c, word_embeddings):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.bias = nn.Parameter(torch.zeros(c["vocab_size"]))
        self.word_embeddings = word_embeddings
        nn.init.normal_(self.dense.weight, std=c["initializer_range"])
        nn.init.zeros_(self.dense.bias)

    def forward(self, states):
        # .float(): under bfloat16 autocast the product is bfloat16, which
        # PyTorch 1.13's layer norm does not take beside F32 weights.
        return self.LayerNorm(F.gelu(self.dense(states)).float()) @ self.word_embeddings.weight.t() + self.bias
