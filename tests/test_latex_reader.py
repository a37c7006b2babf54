"""The small LaTeX reader that lets chapter 6's check compare a formula with its function."""

import math

import numpy as np
import pytest

from helpers.exercises._latex import evaluate, read_expressions

X = np.array([-2.0, -0.5, 0.0, 1.0, 3.0])


@pytest.mark.parametrize("formula, values", [
    (r"f(x) = x \tanh(x)", [2 * math.tanh(2), 0.5 * math.tanh(0.5), 0, math.tanh(1),
                            3 * math.tanh(3)]),
    (r"\frac{x}{1 + |x|}", [-2 / 3, -1 / 3, 0, 0.5, 0.75]),
    (r"x \cdot \sigma(x)", [-2 / (1 + math.e**2), -0.5 / (1 + math.e**0.5), 0,
                            1 / (1 + math.e**-1), 3 / (1 + math.e**-3)]),
    (r"e^{-x^2}", [math.exp(-4), math.exp(-0.25), 1, math.exp(-1), math.exp(-9)]),
    (r"\max(0, x) + 0.1\sin(x)", [0.1 * math.sin(-2), 0.1 * math.sin(-0.5), 0,
                                  1 + 0.1 * math.sin(1), 3 + 0.1 * math.sin(3)]),
    (r"\sqrt{1 + x^2} - 1", [math.sqrt(5) - 1, math.sqrt(1.25) - 1, 0, math.sqrt(2) - 1,
                             math.sqrt(10) - 1]),
    (r"\tanh^2(x)", [math.tanh(2)**2, math.tanh(0.5)**2, 0, math.tanh(1)**2, math.tanh(3)**2]),
    (r"x^23", [12, 0.75, 0, 3, 27]),  # LaTeX's x^23 is x^2 times 3
    (r"\mathrm{mish}(x) = x \tanh\big(\mathrm{softplus}(x)\big)",
     [v * math.tanh(math.log1p(math.exp(v))) for v in X]),
    (r"f(x) = x\Phi(x)", [v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in X]),
    (r"\sinh^{-1}(x)", [math.asinh(v) for v in X]),  # the inverse function, not 1 / sinh
    (r"x \tan^{-1}(x)", [v * math.atan(v) for v in X]),
])
def test_reads_the_usual_notation(formula, values):
    read = read_expressions(formula)
    assert len(read) == 1
    np.testing.assert_allclose(evaluate(read[0], X), values, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("formula", [
    r"\alpha x",                        # a parameter
    r"\tanh 2x",                        # sin(2x) or sin(2) x: not guessed
    r"\log_{10}(x)",                    # a subscript
    r"1e-3 x",                          # e the constant, or an exponent?
    r"\sqrt[3]{x}",                     # an n-th root
    r"\begin{cases} x & x > 0 \\ 0 & x \le 0 \end{cases}",
    r"x \tanh(",                        # unbalanced
    r"\mathrm{gelu}(x)",                # a function of another name
])
def test_leaves_what_it_cannot_read(formula):
    assert read_expressions(formula) == []
