"""Tests of the chapter 06 checks: right answers pass, typical wrong ones fail clearly."""

import numpy as np
import pytest

from helpers import activations, diagnostics
from helpers.exercises import ExerciseError, NotAnsweredYet, ch06

# ---------------------------------------------------------------- reference answers


def mish(x):
    softplus = np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))
    return x * np.tanh(softplus)


def mish_grad(x):
    e = np.exp(-np.abs(x))
    t = np.tanh(np.maximum(x, 0) + np.log1p(e))
    sigmoid = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    return t + x * (1 - t * t) * sigmoid


def softsign(x):
    return x / (1 + np.abs(x))


def softsign_grad(x):
    return 1 / (1 + np.abs(x)) ** 2


def absolute(x):
    return np.abs(x)


def absolute_grad(x):
    return np.sign(x)


def unfinished(*args, **kwargs):
    raise NotImplementedError()


def mish_info():
    return {"name": "mish", "formula": r"x \tanh(\mathrm{softplus}(x))",
            "output_range": (-0.30885, np.inf)}


def max_gradient_error(f, df, x, h=1e-5):
    fd = (f(x + h) - f(x - h)) / (2 * h)
    d = df(x)
    return float(np.max(np.abs(d - fd) / np.maximum(1.0, np.maximum(np.abs(d), np.abs(fd)))))


def gradient_flow(net, X, y):
    norms = diagnostics.gradient_norms(net, X, y)
    dead = diagnostics.dead_fraction(net, X)[:-1]
    flat = np.concatenate([(np.abs(a.grad(z)) < 0.01).ravel()
                           for a, z in zip(net.hidden_activations, net.cache["z"][:-1])])
    return {"ratio": float(norms[0] / norms[-1]), "dead": float(dead.mean()),
            "flat": float(flat.mean())}


def comparison_table(train, names, datasets, seeds):
    return {ds: {n: [float(train(n, ds, s).val_accuracy[-1]) for s in seeds] for n in names}
            for ds in datasets}


# ---------------------------------------------------------------- Part 1: forward


@pytest.mark.parametrize("fn", [mish, softsign, absolute, np.sin])
def test_forward_accepts_good_designs(fn, capsys):
    ch06.check_forward(fn)
    assert "\u2705" in capsys.readouterr().out


def test_forward_unfinished():
    with pytest.raises(NotAnsweredYet, match="not answered yet"):
        ch06.check_forward(unfinished)


def test_forward_rejects_a_python_loop():
    def looped(x):
        return np.array([v * np.tanh(np.log1p(np.exp(v))) for v in x.ravel()]).reshape(x.shape)

    with pytest.raises(ExerciseError, match="Python loop"):
        ch06.check_forward(looped)


def test_forward_rejects_an_affine_function():
    def affine(x):
        return 2 * x + 1

    with pytest.raises(ExerciseError, match="straight line"):
        ch06.check_forward(affine)


def test_forward_rejects_a_builtin():
    def my_relu(x):
        return np.maximum(x, 0)

    with pytest.raises(ExerciseError, match="built-in 'relu'"):
        ch06.check_forward(my_relu)


def test_forward_rejects_a_reduction_over_the_batch():
    def centred(x):
        return np.tanh(x - x.mean(axis=-1, keepdims=True))

    with pytest.raises(ExerciseError, match="2-D batch"):
        ch06.check_forward(centred)


def test_forward_rejects_in_place_modification():
    def in_place(x):
        x *= np.tanh(np.log1p(np.exp(x)))
        return x

    with pytest.raises(ExerciseError, match="modified its input"):
        ch06.check_forward(in_place)


def test_forward_rejects_nan():
    def bad(x):
        return np.log(x) * x

    with pytest.raises(ExerciseError, match="finite"):
        ch06.check_forward(bad)


# ---------------------------------------------------------------- Part 2: derivative


@pytest.mark.parametrize("fn, grad", [(mish, mish_grad), (softsign, softsign_grad),
                                      (absolute, absolute_grad), (np.sin, np.cos)])
def test_derivative_accepts_right_answers(fn, grad, capsys):
    ch06.check_derivative(fn, grad)
    assert "\u2705" in capsys.readouterr().out


def test_derivative_unfinished():
    with pytest.raises(NotAnsweredYet):
        ch06.check_derivative(mish, unfinished)


def test_derivative_off_by_sign():
    with pytest.raises(ExerciseError, match="sign is flipped"):
        ch06.check_derivative(mish, lambda x: -mish_grad(x))


def test_derivative_off_by_a_factor():
    def doubled(x):
        return 2 * softsign_grad(x)

    with pytest.raises(ExerciseError, match="2 times the finite differences"):
        ch06.check_derivative(softsign, doubled)


def test_derivative_missing_chain_rule_term_names_the_point():
    def missing_term(x):  # forgot the x (1 - t^2) sigmoid(x) term of the product rule
        return np.tanh(np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x))))

    with pytest.raises(ExerciseError, match=r"worst is x = "):
        ch06.check_derivative(mish, missing_term)


def test_derivative_with_a_loop_is_rejected():
    def looped(x):
        return np.array([np.cos(v) for v in x])

    with pytest.raises(ExerciseError, match="Python loop"):
        ch06.check_derivative(np.sin, looped)


# ---------------------------------------------------------------- Part 3: registration


def test_registration_accepts_a_true_range(capsys):
    ch06.check_registration(mish_info, mish)
    assert "\u2705" in capsys.readouterr().out


def test_registration_rejects_a_range_that_is_too_tight():
    def info():
        return {**mish_info(), "output_range": (-0.3, np.inf)}

    with pytest.raises(ExerciseError, match="below the lower end -0.3"):
        ch06.check_registration(info, mish)


def test_registration_rejects_a_builtin_name():
    def info():
        return {**mish_info(), "name": "relu"}

    with pytest.raises(ExerciseError, match="built-in"):
        ch06.check_registration(info, mish)


def test_registration_missing_key_and_unfinished():
    with pytest.raises(ExerciseError, match="'formula'"):
        ch06.check_registration(lambda: {"name": "mish", "output_range": (0, 1)}, mish)
    with pytest.raises(NotAnsweredYet):
        ch06.check_registration(unfinished, mish)


def test_registration_does_not_register(capsys):
    before = activations.names()
    ch06.check_registration(mish_info, mish)
    assert activations.names() == before


# ---------------------------------------------------------------- Part 4: gradient checker


def test_gradient_checker_accepts_the_right_answer(capsys):
    ch06.check_gradient_check_function(max_gradient_error)
    assert "\u2705" in capsys.readouterr().out


def test_gradient_checker_unfinished():
    with pytest.raises(NotAnsweredYet):
        ch06.check_gradient_check_function(unfinished)


def test_gradient_checker_one_sided_difference():
    def one_sided(f, df, x, h=1e-5):
        fd = (f(x + h) - f(x)) / h
        d = df(x)
        return float(np.max(np.abs(d - fd) / np.maximum(1.0, np.maximum(np.abs(d), np.abs(fd)))))

    with pytest.raises(ExerciseError, match="central difference"):
        ch06.check_gradient_check_function(one_sided)


def test_gradient_checker_absolute_error_only():
    def absolute_error(f, df, x, h=1e-5):
        return float(np.max(np.abs(df(x) - (f(x + h) - f(x - h)) / (2 * h))))

    with pytest.raises(ExerciseError, match=r"max\(1, \|df\(x\)\|"):
        ch06.check_gradient_check_function(absolute_error)


def test_gradient_checker_ignoring_h():
    def fixed_h(f, df, x, h=1e-5):
        return max_gradient_error(f, df, x, 1e-5)

    with pytest.raises(ExerciseError, match="use the h you are given"):
        ch06.check_gradient_check_function(fixed_h)


def test_gradient_checker_without_absolute_value():
    def signed(f, df, x, h=1e-5):
        fd = (f(x + h) - f(x - h)) / (2 * h)
        d = df(x)
        return float(np.max((d - fd) / np.maximum(1.0, np.maximum(np.abs(d), np.abs(fd)))))

    with pytest.raises(ExerciseError, match="absolute value"):
        ch06.check_gradient_check_function(signed)


def test_gradient_checker_input_not_modified():
    def mutating(f, df, x, h=1e-5):
        x += 0.0
        x[0] = 1.0
        return max_gradient_error(f, df, x, h)

    with pytest.raises(ExerciseError, match="modified its input"):
        ch06.check_gradient_check_function(mutating)


# ---------------------------------------------------------------- Part 5: stability


@pytest.mark.parametrize("fn, grad", [(mish, mish_grad), (softsign, softsign_grad)])
def test_stability_accepts_stable_forms(fn, grad, capsys):
    ch06.check_stability(fn, grad)
    assert "\u2705" in capsys.readouterr().out


def test_stability_unfinished():
    with pytest.raises(NotAnsweredYet):
        ch06.check_stability(unfinished, mish_grad)


def test_stability_naive_softplus_overflows_in_float32():
    def naive(x):
        return x * np.tanh(np.log(1 + np.exp(x)))

    with pytest.raises(ExerciseError, match=r"fails at x = 100 \(float32\).*overflow") as info:
        ch06.check_stability(naive, mish_grad)
    assert "log1p" in str(info.value)


def test_stability_naive_derivative_gives_a_warning():
    def paper_formula(x):  # Misra's closed form: e^x w / d^2, which is inf / inf for large x
        w = 4 * (x + 1) + 4 * np.exp(2 * x) + np.exp(3 * x) + np.exp(x) * (4 * x + 6)
        d = 2 * np.exp(x) + np.exp(2 * x) + 2
        return np.exp(x) * w / d**2

    with pytest.raises(ExerciseError, match="my_derivative` fails at x = "):
        ch06.check_stability(mish, paper_formula)


def test_stability_dtype_promotion():
    def promoting(x):
        return mish(x).astype(np.float64)

    with pytest.raises(ExerciseError, match="float32 input into float64"):
        ch06.check_stability(promoting, mish_grad)


def test_stability_in_place_modification():
    def in_place(x):
        np.tanh(x, out=x)
        return x

    with pytest.raises(ExerciseError, match="modified its input"):
        ch06.check_stability(in_place, mish_grad)


def test_stability_leaves_no_global_state(capsys):
    ch06.check_stability(mish, mish_grad)
    with np.errstate(over="ignore"):
        assert np.geterr()["over"] == "ignore"
    assert np.geterr()["over"] == "warn"


# ---------------------------------------------------------------- Part 6: gradient flow


def test_gradient_flow_accepts_the_right_answer(capsys):
    ch06.check_gradient_flow(gradient_flow)
    assert "\u2705" in capsys.readouterr().out


def test_gradient_flow_unfinished():
    with pytest.raises(NotAnsweredYet):
        ch06.check_gradient_flow(unfinished)


def test_gradient_flow_upside_down_ratio():
    def inverted(net, X, y):
        r = gradient_flow(net, X, y)
        return {**r, "ratio": 1 / r["ratio"]}

    with pytest.raises(ExerciseError, match="upside down"):
        ch06.check_gradient_flow(inverted)


def test_gradient_flow_dead_includes_output_layer():
    def with_output(net, X, y):
        r = gradient_flow(net, X, y)
        return {**r, "dead": float(diagnostics.dead_fraction(net, X).mean())}

    with pytest.raises(ExerciseError, match=r"(?s)\['dead'\].*hidden layers only"):
        ch06.check_gradient_flow(with_output)


def test_gradient_flow_flat_without_absolute_value():
    def signed(net, X, y):
        r = gradient_flow(net, X, y)
        flat = np.concatenate([(a.grad(z) < 0.01).ravel()
                               for a, z in zip(net.hidden_activations, net.cache["z"][:-1])])
        return {**r, "flat": float(flat.mean())}

    with pytest.raises(ExerciseError, match=r"(?s)silu network.*absolute value"):
        ch06.check_gradient_flow(signed)


def test_gradient_flow_must_not_train():
    def trains(net, X, y):
        net.fit(X, y, epochs=1, lr=0.1)
        return gradient_flow(net, X, y)

    with pytest.raises(ExerciseError, match="changed the network's weights"):
        ch06.check_gradient_flow(trains)


def test_gradient_flow_missing_key():
    with pytest.raises(ExerciseError, match="no key 'flat'"):
        ch06.check_gradient_flow(lambda net, X, y: {
            k: v for k, v in gradient_flow(net, X, y).items() if k != "flat"})


# ---------------------------------------------------------------- Part 7: comparison table


def test_comparison_table_accepts_the_right_answer(capsys):
    ch06.check_comparison_table(comparison_table)
    assert "\u2705" in capsys.readouterr().out


def test_comparison_table_unfinished():
    with pytest.raises(NotAnsweredYet):
        ch06.check_comparison_table(unfinished)


def test_comparison_table_training_accuracy():
    def train_acc(train, names, datasets, seeds):
        return {ds: {n: [float(train(n, ds, s).accuracy[-1]) for s in seeds] for n in names}
                for ds in datasets}

    with pytest.raises(ExerciseError, match="training accuracy"):
        ch06.check_comparison_table(train_acc)


def test_comparison_table_best_epoch():
    def best(train, names, datasets, seeds):
        return {ds: {n: [float(train(n, ds, s).val_accuracy.max()) for s in seeds]
                     for n in names} for ds in datasets}

    with pytest.raises(ExerciseError, match="best epoch"):
        ch06.check_comparison_table(best)


def test_comparison_table_wrong_nesting():
    def transposed(train, names, datasets, seeds):
        return {n: {ds: [float(train(n, ds, s).val_accuracy[-1]) for s in seeds]
                    for ds in datasets} for n in names}

    with pytest.raises(ExerciseError, match="outer keys"):
        ch06.check_comparison_table(transposed)


def test_comparison_table_one_seed_only():
    def one_seed(train, names, datasets, seeds):
        return {ds: {n: [float(train(n, ds, seeds[0]).val_accuracy[-1])] for n in names}
                for ds in datasets}

    with pytest.raises(ExerciseError, match="called train 6 times"):
        ch06.check_comparison_table(one_seed)


def test_comparison_table_mean_instead_of_list():
    def means(train, names, datasets, seeds):
        return {ds: {n: float(np.mean([train(n, ds, s).val_accuracy[-1] for s in seeds]))
                     for n in names} for ds in datasets}

    with pytest.raises(ExerciseError, match="shape"):
        ch06.check_comparison_table(means)


# ---------------------------------------------------------------- answered()


def test_answered_spots_unfinished_functions(capsys):
    def todo(x):
        raise NotImplementedError()

    assert ch06.answered(mish, mish_grad) is True
    assert ch06.answered(mish, todo) is False
    assert "`todo` is not answered yet" in capsys.readouterr().out
