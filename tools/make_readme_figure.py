"""Draw the figure at the top of the README: docs/circles_boundaries.png.

    python tools/make_readme_figure.py

The chapter 1 lesson in one picture: the same data, a linear model, then one hidden
layer of tanh and of ReLU units.
"""

from pathlib import Path

from helpers import data, nn, plots

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    X, y = data.circles(300, noise=0.08, seed=0)
    fig, axes = plots.subplots(1, 3, figsize=(11, 3.6))
    models = [
        ("no hidden layer (linear)", nn.MLP([2, 1], output="sigmoid", seed=0)),
        ("8 tanh units", nn.MLP([2, 8, 1], activation="tanh", output="sigmoid", seed=0)),
        ("8 ReLU units", nn.MLP([2, 8, 1], activation="relu", output="sigmoid", init="he",
                                seed=0)),
    ]
    for ax, (label, net) in zip(axes, models):
        history = net.fit(X, y, epochs=400, lr=0.05, optimizer="adam")
        plots.plot_decision_boundary(net, X, y, ax=ax, resolution=150,
                                     title=f"{label}: accuracy {history.accuracy[-1]:.2f}")
    out = ROOT / "docs" / "circles_boundaries.png"
    fig.savefig(out, dpi=110)
    print(out)


if __name__ == "__main__":
    main()
