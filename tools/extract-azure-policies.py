#!/usr/bin/env python3
"""Writes data/azure-policies.json: the facts fleetgen checks intent mappings against, taken
from the Azure/azure-policy built-in Kubernetes definitions (../shared/data/azure-k8s-policies.json).

Usage: tools/extract-azure-policies.py [SOURCE] [OUT]
CI runs it with --check when the source is present, so the copy never drifts.
"""
import json
import sys
from pathlib import Path

here = Path(__file__).resolve().parent.parent
args = [a for a in sys.argv[1:] if a != "--check"]
source = Path(args[0]) if args else here.parent / "shared/data/azure-k8s-policies.json"
out = Path(args[1]) if len(args) > 1 else here / "data/azure-policies.json"

data = json.loads(source.read_text())
note = data["note"]


def parameters(d):
    result = {}
    for name, p in sorted((d.get("parameters") or {}).items()):
        entry = {"type": p.get("type")}
        if p.get("allowedValues") is not None:
            entry["allowedValues"] = p["allowedValues"]
        if "defaultValue" in p:
            entry["defaultValue"] = p["defaultValue"]
        result[name] = entry
    return result


# Effects Azure runs through the assignment's managed identity (remediation tasks).
IDENTITY_EFFECTS = {"deployifnotexists", "modify"}
by_id = {d["id"].lower(): d for d in data["policyDefinitions"]}


def member_effects(initiative, member):
    """The effects a member of an initiative can take when the initiative is assigned with
    `Audit` or `Deny` (what fleetgen sets): a literal, an expression naming effects (the
    Image Integrity members' `if(equals(parameters('effect'), 'Disabled'), 'Disabled',
    'DeployIfNotExists')`), another initiative parameter's allowed values, or with no value
    the member's own default."""
    value = ((member.get("parameters") or {}).get("effect") or {}).get("value")
    if value is None:
        definition = by_id.get(member["policyDefinitionId"].lower()) or {}
        return [definition.get("effectDefault") or ""]
    if not (isinstance(value, str) and value.startswith("[")):
        return [str(value)]
    if value.strip() == "[parameters('effect')]":
        return []
    named = [e for e in ("DeployIfNotExists", "Modify") if e.lower() in value.lower()]
    if named:
        return named
    if value.startswith("[parameters('") and value.endswith("')]"):
        p = (initiative.get("parameters") or {}).get(value[len("[parameters('"):-len("')]")]) or {}
        return p.get("allowedValues") or [p.get("defaultValue") or ""]
    return []


def identity_members(d):
    """The members of an initiative that need the assignment's managed identity."""
    result = []
    for m in d.get("policyDefinitions") or []:
        effects = sorted({e for e in member_effects(d, m) if e.lower() in IDENTITY_EFFECTS})
        if effects:
            result.append({"referenceId": m["policyDefinitionReferenceId"], "effects": effects})
    return result


definitions = []
for d in data["policyDefinitions"] + data["policySetDefinitions"]:
    entry = {
        "name": d["name"],
        "kind": d["kind"],
        "displayName": d["displayName"],
        "description": d.get("description") or "",
        "version": d.get("version"),
        "deprecated": bool(d.get("deprecated")),
        "preview": bool(d.get("preview")),
        "effects": d.get("effectAllowedValues") or [],
        "required": d.get("requiredParameters") or [],
        "parameters": parameters(d),
    }
    members = identity_members(d)
    if members:
        entry["identityMembers"] = members
    definitions.append(entry)
definitions.sort(key=lambda d: (d["kind"], d["name"]))
result = {
    "source": {"repository": note["source"], "commit": note["commit"], "release": note["commitInfo"],
               "folders": note["folders"]},
    "generatedBy": "tools/extract-azure-policies.py",
    "definitions": definitions,
}
text = json.dumps(result, indent=1, ensure_ascii=False, sort_keys=False) + "\n"
if "--check" in sys.argv:
    if out.read_text() != text:
        print(f"{out} differs from what {source} gives; run tools/extract-azure-policies.py", file=sys.stderr)
        sys.exit(1)
    print(f"{out.relative_to(here)}: up to date with Azure/azure-policy@{note['commit'][:12]}")
else:
    out.write_text(text)
    print(f"wrote {out} ({len(definitions)} definitions)")
