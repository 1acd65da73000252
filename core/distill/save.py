"""The distilled student as a model folder anyone can load.

The folder holds what transformers reads (``config.json``, ``model.safetensors``, the
tokenizer files), what sentence-transformers reads (``modules.json``, ``1_Pooling/``,
``2_Normalize`` for cosine models, a ``Dense`` projection head when the student has one,
``sentence_bert_config.json``,
``config_sentence_transformers.json`` with the query and passage prompts), a model card
(``README.md``) and ``clirlens_student.json``: the teacher as a ``--model`` value (so
clirlens pairs the student, which encodes queries, with its teacher, which encodes
passages), the bitext and its hash, the split, the hyper-parameters, the steps and the
measured figures before and after.

The folder is written beside its final place and renamed into it, so an interrupted save
leaves no half-written model; the run's ``training/`` folder (checkpoint, baselines) moves
along into it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from clirlens.core.models.head import write_head
from clirlens.core.models.spec import STUDENT_FILE

TRAINING = "training"  # the run's checkpoint and baselines, inside the student's folder


def _dump(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _figures_table(figures: dict[str, dict[str, float]]) -> str:
    measures = sorted({m for row in figures.values() for m in row})
    lines = ["| | " + " | ".join(measures) + " |", "|---" * (len(measures) + 1) + "|"]
    for name, row in figures.items():
        cells = [f"{row[m]:.4f}" if m in row else "" for m in measures]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def model_card(card: dict[str, Any]) -> str:
    """The README of a student folder (YAML front matter, then the record in prose)."""
    hp = card["hyperparameters"]
    return (
        "---\nlibrary_name: sentence-transformers\ntags:\n- clirlens\n- distillation\n"
        f"- optical\nlanguage:\n- {card['lang']}\n- {card['pivot']}\n---\n\n"
        f"# {card['name']}\n\n"
        f"A {card['lang']} query encoder distilled by clirlens {card['clirlens']} with an "
        "optimal-transport loss (OPTICAL, Huang, Yu & Allan, WSDM 2023) from the teacher "
        f"`{card['teacher']}` (which encodes the passages), initialised from "
        f"`{card['student_init']}`.\n\n"
        f"* bitext: {card['bitext']['origin']} ({card['bitext']['pairs']} pairs, hash "
        f"`{card['bitext']['hash']}`)\n"
        f"* held out: {card.get('heldout', 'none')}\n"
        f"* steps: {card['steps']} (batch {hp['batch_size']}, lr {hp['lr']}, ε {hp['eps']}, "
        f"layer {hp['layer']}, sentence-term weight {hp['sentence_weight']}, "
        f"{'a projection head, ' if hp.get('head') else ''}embeddings "
        f"{'frozen' if hp['freeze_embeddings'] else 'trained'}, {hp['dtype']}, seed {hp['seed']})\n\n"
        "Use it for queries and the teacher for passages: in clirlens, "
        "`--model student=THIS_FOLDER` pairs them itself.\n\n"
        "## Measured (held out)\n\n" + _figures_table(card.get("figures", {})) + "\n"
    )


def save_student(student: Any, out: Path, card: dict[str, Any]) -> Path:
    """Write ``student`` (a :class:`~clirlens.core.distill.student.Student`) and its card to
    ``out`` (module notes); returns ``out``."""
    out = Path(out)
    tmp = out.with_name(f".{out.name}.saving")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    spec = student.spec
    student.model.save_pretrained(tmp, safe_serialization=True)
    student.tokenizer.save_pretrained(tmp)
    modules = [
        {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
        {
            "idx": 1,
            "name": "1",
            "path": "1_Pooling",
            "type": "sentence_transformers.models.Pooling",
        },
    ]
    chain = ["Normalize"] if spec.normalize else []
    if student.head is not None:  # Normalize → Dense → Normalize (core/models/head.py)
        chain += ["Dense", "Normalize"] if spec.normalize else ["Dense"]
    for kind in chain:
        idx = len(modules)
        path = f"{idx}_{kind}"
        modules.append(
            {"idx": idx, "name": str(idx), "path": path,
             "type": f"sentence_transformers.models.{kind}"}
        )  # fmt: skip
        (tmp / path).mkdir()
        if kind == "Dense":
            write_head(
                tmp / path,
                student.head.weight.detach().float().numpy(),
                student.head.bias.detach().float().numpy(),
            )
    _dump(tmp / "modules.json", modules)
    (tmp / "1_Pooling").mkdir()
    _dump(
        tmp / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": student.hidden_size,
            "pooling_mode_cls_token": spec.pooling == "cls",
            "pooling_mode_mean_tokens": spec.pooling == "mean",
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
        },
    )
    _dump(
        tmp / "sentence_bert_config.json",
        {"max_seq_length": spec.max_length, "do_lower_case": False},
    )
    _dump(
        tmp / "config_sentence_transformers.json",
        {
            "prompts": {"query": spec.query_prefix, "passage": spec.passage_prefix},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine" if spec.normalize else "dot",
        },
    )
    _dump(tmp / STUDENT_FILE, card)
    (tmp / "README.md").write_text(model_card(card), encoding="utf-8")
    if (out / TRAINING).is_dir():
        shutil.move(str(out / TRAINING), str(tmp / TRAINING))
    if out.exists():
        old = out.with_name(f".{out.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        out.rename(old)
        tmp.rename(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        tmp.rename(out)
    return out
