"""A small JSON Schema validator for the keywords schemas/json uses.

The runner runs on clusters where no extra Python package can be assumed, so it carries this
instead of the jsonschema package. Unknown keywords are ignored, as the specification says
for annotations; every keyword the exported schemas use is implemented.
"""
import re

_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool)
    or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def _ecma_pattern(pattern):
    """JSON Schema patterns are ECMA-262 regexes: `$` ends the string (Python's `$` also matches
    before a final newline) and `\\d` means ASCII digits only."""
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        out.append(r"\Z" if c == "$" else c)
        i += 1
    return re.compile("".join(out), re.ASCII)


_PATTERNS = {}


def _matches(pattern, value):
    if pattern not in _PATTERNS:
        _PATTERNS[pattern] = _ecma_pattern(pattern)
    return _PATTERNS[pattern].search(value) is not None


def _path(parts):
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(root)"


def validate(value, schema):
    """Returns a list of (dotted path, message); empty when the value is valid."""
    return [e[:2] for e in _validate(value, schema, ())]


def _validate(value, schema, path):
    """Errors as (path, message) or (path, message, keyword) for the keywords unions weigh."""
    errors = []
    if schema is True or schema == {}:
        return errors
    if schema is False:
        return [(_path(path), "no value is allowed here")]
    t = schema.get("type")
    if t is not None:
        types = t if isinstance(t, list) else [t]
        if not any(_TYPES[x](value) for x in types):
            return [(_path(path), f"expected {' or '.join(types)}, got {type(value).__name__}")]
    if "const" in schema and value != schema["const"]:
        errors.append((_path(path), f"expected {schema['const']!r}", "const"))
    if "enum" in schema and value not in schema["enum"]:
        errors.append((_path(path), f"expected one of {schema['enum']}"))
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            errors.append((_path(path), f"shorter than {schema['minLength']}"))
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append((_path(path), f"longer than {schema['maxLength']}"))
        if "pattern" in schema and not _matches(schema["pattern"], value):
            errors.append((_path(path), f"does not match {schema['pattern']}"))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append((_path(path), f"below the minimum {schema['minimum']}"))
        if "maximum" in schema and value > schema["maximum"]:
            errors.append((_path(path), f"above the maximum {schema['maximum']}"))
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            errors.append((_path(path), f"must be above {schema['exclusiveMinimum']}"))
        if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
            errors.append((_path(path), f"must be below {schema['exclusiveMaximum']}"))
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            errors.append((_path(path), f"needs at least {schema['minItems']} items"))
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append((_path(path), f"has more than {schema['maxItems']} items"))
        # A tuple: prefixItems by position, then `items` (false: none) for the rest.
        prefix = schema.get("prefixItems", [])
        for i, item in enumerate(value[: len(prefix)]):
            errors.extend(_validate(item, prefix[i], path + (i,)))
        if "items" in schema:
            for i, item in enumerate(value[len(prefix):], start=len(prefix)):
                if schema["items"] is False:
                    errors.append((_path(path + (i,)), f"is one item too many (at most {len(prefix)})"))
                    break
                errors.extend(_validate(item, schema["items"], path + (i,)))
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                errors.append((_path(path + (key,)), "is required"))
        for key, item in value.items():
            if "propertyNames" in schema:
                for _, msg, *_ in _validate(key, schema["propertyNames"], ()):
                    errors.append((_path(path + (key,)), f"key {msg}"))
            if key in props:
                errors.extend(_validate(item, props[key], path + (key,)))
            elif "additionalProperties" in schema:
                extra = schema["additionalProperties"]
                if extra is False:
                    errors.append((_path(path + (key,)), "is not allowed (unknown key)"))
                else:
                    errors.extend(_validate(item, extra, path + (key,)))
    if "anyOf" in schema:
        branches = [_validate(value, s, path) for s in schema["anyOf"]]
        if all(branches):
            errors.extend(_closest(branches))
    if "oneOf" in schema:
        branches = [_validate(value, s, path) for s in schema["oneOf"]]
        passing = [b for b in branches if not b]
        if len(passing) != 1:
            errors.extend(_closest(branches) if not passing else [(_path(path), "matches more than one choice")])
    return errors


def _closest(branches):
    """The branch the value was most likely meant for: the fewest failed discriminators (const),
    then the fewest errors. A union tagged by `type` thus reports the wrong value, not the tag."""
    return min(branches, key=lambda b: (sum(1 for e in b if len(e) > 2 and e[2] == "const"), len(b)))
