"""The portfolio dashboard and the regulator views (blueprint ``portfolio_dashboard``), one
module per screen:

- ``overview``: charts of the learner's hours, principles and escalator step, and recommended
  next steps (``/portfolio/dashboard``)
- ``regulator_view``: the learner's record as their regulator asks for it
  (``/portfolio/regulator``)

and what they read: ``services`` (the taxonomy and recommendations), ``regulators`` (each
regulator's numbers) and ``charts`` (SVG charts). Views only read, and only the signed-in
learner's own records; there are no ids in these URLs.
"""


def register(app) -> None:
    """Add the dashboard screens to ``app`` (importing a module adds its routes to ``bp``)."""
    from academy.portfolio.dashboard import overview, regulator_view  # noqa: F401
    from academy.portfolio.dashboard.common import bp

    app.register_blueprint(bp)
