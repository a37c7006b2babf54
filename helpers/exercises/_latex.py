"""Read a small LaTeX formula of f(x) as a numpy function, so a check can compare it with the
function it describes.

Only what activation formulas are written with: numbers, x, e and \\pi; + - * /, \\cdot,
\\times, products written side by side; powers (^), \\frac, \\sqrt, |...|; and standard
functions (\\exp, \\ln, \\log, \\tanh, \\sigma, \\mathrm{softplus}, \\max, ...). A domain
at the end (", \\quad x \\in \\mathbb{R}") is left out. Anything else (a parameter such as
\\alpha, a subscript, a function of another name, cases) makes the formula unreadable:
:func:`read_expression` returns None, and :func:`read_sides` says what it could not read.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np

Fn = Callable[[np.ndarray], np.ndarray]

_erf = np.frompyfunc(math.erf, 1, 1)


def _sigmoid(u):
    return 0.5 * (1.0 + np.tanh(0.5 * u))  # stable at every u


def _phi(u):  # the standard normal CDF, as in GELU's x \Phi(x)
    return 0.5 * (1.0 + _erf(u / math.sqrt(2)).astype(np.float64))


FUNCTIONS: dict[str, Callable] = {
    "sin": np.sin, "cos": np.cos, "tan": np.tan, "sinh": np.sinh, "cosh": np.cosh,
    "tanh": np.tanh, "exp": np.exp, "ln": np.log, "log": np.log, "arctan": np.arctan,
    "atan": np.arctan, "sech": lambda u: 1.0 / np.cosh(u), "sigma": _sigmoid,
    "sigmoid": _sigmoid, "softplus": lambda u: np.logaddexp(0.0, u), "erf":
    lambda u: _erf(u).astype(np.float64), "Phi": _phi, "abs": np.abs, "sign": np.sign,
    "sgn": np.sign, "relu": lambda u: np.maximum(u, 0.0), "sqrt": np.sqrt,
    "arcsin": np.arcsin, "arccos": np.arccos, "arcsinh": np.arcsinh, "asinh": np.arcsinh,
    "arsinh": np.arcsinh, "arccosh": np.arccosh, "arctanh": np.arctanh, "artanh": np.arctanh,
}
# \sinh^{-1}(x) is the inverse function, not 1 / \sinh(x)
_INVERSE = re.compile(r"\\(sin|cos|tan|sinh|cosh|tanh)\s*\^\s*\{\s*-\s*1\s*\}")
_TWO_ARGUMENTS = {"max": np.maximum, "min": np.minimum}
_SKIPPED = {"left", "right", "big", "Big", "bigg", "Bigg", "bigl", "bigr", "Bigl", "Bigr",
            "displaystyle", "quad", "qquad", ",", ";", "!", ":", " "}
_COMMANDS = {"frac", "dfrac", "tfrac", "pi"}
_NAMED = re.compile(r"\\(?:mathrm|operatorname|text|mathit|textrm)\s*\{\s*([A-Za-z ]+?)\s*\}")
_TOKEN = re.compile(r"\s*(?:(\d+\.?\d*|\.\d+)|\\([A-Za-z]+|.)|([A-Za-z]+)|(.))", re.DOTALL)


# x as a symbol of its own, not a letter of a word or a command (\\exp, \\max)
MENTIONS_X = re.compile(r"(?<![A-Za-z\\])x(?![A-Za-z])")


class _Unreadable(Exception):
    pass


def _tokens(text: str) -> list[tuple[str, str]]:
    """(kind, value) pairs: num, name (a letter word or a command), or op."""
    text = _NAMED.sub(lambda m: " " + m.group(1).replace(" ", "") + " ", text)
    out: list[tuple[str, str]] = []
    for number, command, word, op in _TOKEN.findall(text):
        if number:
            out.append(("num", number))
        elif command:
            if command in _SKIPPED:
                continue
            if command in ("{", "}"):
                out.append(("op", "(" if command == "{" else ")"))
            elif command in ("cdot", "times"):
                out.append(("op", "*"))
            elif command in ("lvert", "rvert", "vert", "|"):
                out.append(("op", "|"))
            elif command in FUNCTIONS or command in _TWO_ARGUMENTS or command in _COMMANDS:
                out.append(("name", command))
            else:  # a command it does not know (\\alpha, \\in): named as written
                out.append(("name", "\\" + command))
        elif word:
            if word.lower() in FUNCTIONS or word in _TWO_ARGUMENTS or word == "pi":
                out.append(("name", word.lower() if word != "Phi" else word))
            elif set(word) <= {"x", "e"}:  # letters side by side are a product: "xe" is x e
                out.extend(("name", letter) for letter in word)
            else:  # a word it does not know (mish, alpha): named whole when it says so
                out.append(("name", word))
        elif op.strip():
            out.append(("op", {"[": "(", "]": ")", "{": "(", "}": ")"}.get(op, op)))
    return out


class _Parser:
    def __init__(self, tokens):
        self.tokens, self.i, self.in_bars = tokens, 0, 0

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else ("end", "")

    def take(self, value=None):
        token = self.peek()
        if value is not None and token[1] != value:
            raise _Unreadable(f"{_shown(token)} where {value!r} should come")
        self.i += 1
        return token

    def expression(self) -> Fn:
        left = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            sign = self.take()[1]
            right = self.term()
            left = (lambda a, b: lambda x: a(x) + b(x))(left, right) if sign == "+" else \
                (lambda a, b: lambda x: a(x) - b(x))(left, right)
        return left

    def starts_atom(self) -> bool:
        kind, value = self.peek()
        return kind in ("num", "name") or value == "(" or (value == "|" and not self.in_bars)

    def term(self) -> Fn:
        left = self.unary()
        while True:
            if self.peek() in (("op", "*"), ("op", "/")):
                op = self.take()[1]
                right = self.unary()
            elif self.starts_atom():
                op, right = "*", self.power()
            else:
                return left
            left = (lambda a, b: lambda x: a(x) * b(x))(left, right) if op == "*" else \
                (lambda a, b: lambda x: a(x) / b(x))(left, right)

    def unary(self) -> Fn:
        if self.peek() == ("op", "-"):
            self.take()
            inner = self.unary()
            return lambda x: -inner(x)
        if self.peek() == ("op", "+"):
            self.take()
            return self.unary()
        return self.power()

    def exponent(self) -> Fn:
        kind, value = self.peek()
        if value == "(":
            return self.group()
        if kind == "num" and len(value) > 1 and "." not in value:
            # x^23 is x^2 times 3 in LaTeX: one digit is the exponent
            self.tokens[self.i] = ("num", value[1:])
            return lambda x, v=float(value[0]): v
        return self.atom()

    def power(self) -> Fn:
        base = self.atom()
        if self.peek() == ("op", "^"):
            self.take()
            exponent = self.exponent()
            return lambda x: np.power(base(x), exponent(x))
        return base

    def group(self) -> Fn:
        self.take("(")
        inner = self.expression()
        self.take(")")
        return inner

    def atom(self) -> Fn:
        kind, value = self.peek()
        if kind == "num":
            self.take()
            return lambda x, v=float(value): v
        if value == "(":
            return self.group()
        if value == "|" and not self.in_bars:
            self.take()
            self.in_bars += 1
            inner = self.expression()
            self.in_bars -= 1
            self.take("|")
            return lambda x: np.abs(inner(x))
        if kind != "name":
            raise _Unreadable(f"{_shown((kind, value))}")
        self.take()
        if value == "x":
            return lambda x: x
        if value == "e":
            return lambda x: math.e
        if value == "pi":
            return lambda x: math.pi
        if value in ("frac", "dfrac", "tfrac"):
            top, bottom = self.group(), self.group()
            return lambda x: top(x) / bottom(x)
        if value in _TWO_ARGUMENTS:
            fn = _TWO_ARGUMENTS[value]
            self.take("(")
            a = self.expression()
            self.take(",")
            b = self.expression()
            self.take(")")
            return lambda x: fn(a(x), b(x))
        if value in FUNCTIONS:
            fn = FUNCTIONS[value]
            power = None
            if self.peek() == ("op", "^"):  # \tanh^2(x) is (\tanh(x))^2
                self.take()
                power = self.exponent()
            # A bracketed argument, or x alone (\\sin x, \\sin x^2): "\\sin 2x" may mean
            # sin(2x) or sin(2) x.
            argument = self.power() if self.peek() == ("name", "x") else self.group()
            if power is None:
                return lambda x: fn(argument(x))
            return lambda x: np.power(fn(argument(x)), power(x))
        raise _Unreadable(f"{_shown((kind, value))}, a name it does not know")


# A domain written after the formula, which says nothing about its values: ", x \in \mathbb{R}",
# "\quad \text{for all } x", "(x \in \R)", spaces (\quad, \, ~) and punctuation around it.
_SPACE = r"(?:\s|\\quad|\\qquad|\\[,;:! ]|~)"
_REALS = (r"(?:\\mathbb\s*\{?\s*R\s*\}?|\\mathbf\s*\{?\s*R\s*\}?|\\R\b|\\Re\b"
          r"|\(\s*-\s*\\infty\s*,\s*\\infty\s*\))")
_DOMAIN = re.compile(
    rf"{_SPACE}*[,;]?{_SPACE}*(?:\(\s*)?"
    rf"(?:\\text\s*\{{\s*(?:for\s+(?:all|every|any)|if|where)?\s*\}}{_SPACE}*)?"
    rf"(?:\\forall{_SPACE}*)?x{_SPACE}*"
    rf"(?:\\in{_SPACE}*{_REALS}|\\text\s*\{{\s*real\s*\}})?"
    rf"\s*\)?{_SPACE}*[.,;]?{_SPACE}*$")
_FOR_ALL = re.compile(rf"{_SPACE}*[,;]?{_SPACE}*\\text\s*\{{\s*for\s+(?:all|every|any)\s+"
                      rf"(?:real\s+)?x\s*\}}{_SPACE}*[.,;]?{_SPACE}*$")
_TRAILING = re.compile(rf"(?:{_SPACE}|[.,;])+$")


def strip_domain(text: str) -> str:
    r"""``text`` without a domain clause or spacing at its end (", \quad x \in \mathbb{R}")."""
    for _ in range(2):
        text = _FOR_ALL.sub("", text)
        match = _DOMAIN.search(text)
        # Only a clause that names the domain (\in, \forall, "for all"), never a plain x.
        if match and re.search(r"\\in\b|\\forall|\\text", match.group(0)):
            text = text[:match.start()]
        text = _TRAILING.sub("", text)
    return text


def read_expressions(formula: str) -> list[Fn]:
    """Every side of ``formula`` after its first "=" that mentions x and can be read (f(x) =
    a = b gives a and b), or the whole text when it has no "="."""
    return [fn for fn, _ in read_sides(formula) if fn is not None]


# A parameter's value given at the end: ", \\beta = 1.5", "\\quad \\text{with } a = 2".
_NUMBER = r"-?\s*(?:\d+\.?\d*|\.\d+)"
_PARAMETER = re.compile(
    rf"{_SPACE}*[,;]{_SPACE}*(?:\\text\s*\{{\s*(?:with|where|and)\s*\}}{_SPACE}*)?"
    rf"(\\[A-Za-z]+|[A-Za-wyzA-Z])\s*=\s*({_NUMBER}){_SPACE}*[.,;]?{_SPACE}*$")


def _given_parameters(formula: str) -> str:
    """``formula`` with the parameters whose values it gives at its end put in as numbers."""
    values = {}
    for _ in range(8):
        formula = strip_domain(formula)
        match = _PARAMETER.search(formula)
        if not match or match.group(1) in ("\\x", "\\pi") or match.group(1) in values:
            break
        values[match.group(1)] = match.group(2).replace(" ", "")
        formula = formula[:match.start()]
    for name, value in values.items():
        before = r"(?<![A-Za-z])" if name.startswith("\\") else r"(?<![A-Za-z\\])"
        formula = re.sub(before + re.escape(name) + r"(?![A-Za-z])", f"({value})", formula)
    return formula


def read_sides(formula: str) -> list[tuple[Fn | None, str | None]]:
    """(function, None) for each side of ``formula`` (as in :func:`read_expressions`) that
    mentions x and can be read, (None, what could not be read) for one that cannot. A domain
    at the end is left out, and a parameter whose value it gives there ("\\beta = 1") put in."""
    parts = _given_parameters(formula).split("=")
    sides = parts[1:] if len(parts) > 1 else parts
    return [_read(side) for side in sides if MENTIONS_X.search(side)]


def read_expression(text: str) -> Fn | None:
    """One expression in x as a function of a float64 array, or None."""
    return _read(text)[0]


def _read(text: str) -> tuple[Fn | None, str | None]:
    """(the expression as a function, None), or (None, what could not be read)."""
    text = _INVERSE.sub(lambda m: "\\arc" + m.group(1), strip_domain(text.strip()).rstrip(".,;"))
    number = re.search(r"\d[eE][-+]?\d+", text)
    if number:  # 1e-3: e the constant, or an exponent?
        return None, f"the number {number.group(0)!r} (e is the constant e in LaTeX)"
    if re.search(r"\\sqrt\s*\[", text):
        return None, "an n-th root, \\sqrt[n]{...}"
    try:
        parser = _Parser(_tokens(text))
        fn = parser.expression()
        if parser.peek()[0] != "end":
            return None, f"{_shown(parser.peek())} (where the formula should end or go on " \
                         "with an operator)"
    except _Unreadable as err:
        return None, str(err)
    except (ValueError, RecursionError):
        return None, "its structure"
    return fn, None


def _shown(token) -> str:
    kind, value = token
    return "the end of the formula" if kind == "end" else f"'{value}'"


def evaluate(fn: Fn, x: np.ndarray) -> np.ndarray:
    """``fn`` at the points x as a float64 array (NaN where it is undefined)."""
    with np.errstate(all="ignore"):
        y = fn(x)
    return np.broadcast_to(np.asarray(y, dtype=np.float64), x.shape)
