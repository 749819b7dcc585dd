import pytest

from dynamics_stats import AgentContext, InputError, UpstreamValidation, validate_run
from dynamics_stats.io.synthetic import make_run


@pytest.fixture(scope="module")
def artifacts():
    return validate_run(make_run("stalled", seed=0, n_steps=300)[0])


def test_missing_artifacts_is_a_clear_error():
    with pytest.raises(InputError, match="needs the validated TrainingArtifacts.*got NoneType"):
        AgentContext(None)
    with pytest.raises(InputError, match="got str.*dynamics_stats.analyze"):
        AgentContext("runs/a/metrics.csv")


def test_hparams_override_the_log_without_changing_it(artifacts):
    context = AgentContext(artifacts, hparams={"lr": 1e-4, "seed": 7, "bad": float("nan")})
    assert context.hparams["lr"] == 1e-4 and context.hparams["seed"] == 7
    assert context.hparams["bad"] is None
    assert context.hparams["n_steps"] == artifacts.hparams["n_steps"]
    used = context.artifacts_for_analysis()
    assert used.hparams["lr"] == 1e-4 and "lr" not in artifacts.hparams
    assert AgentContext(artifacts).artifacts_for_analysis() is artifacts


def test_non_scalar_hparam_is_rejected(artifacts):
    with pytest.raises(InputError, match=r"hparams\['layers'\].*got list.*dotted keys"):
        AgentContext(artifacts, hparams={"layers": [64, 64]})


def test_upstream_status_comes_from_the_argument_or_the_validation_agent(artifacts):
    assert AgentContext(artifacts).upstream_validation == UpstreamValidation()
    from_agent = AgentContext(
        artifacts,
        other_agents={"artifact_validation": {"passed": False, "issues": ["a", "b"]}},
    ).upstream_validation
    assert from_agent.ran and from_agent.passed is False and from_agent.n_issues == 2
    explicit = UpstreamValidation(ran=False)
    context = AgentContext(artifacts, upstream_validation=explicit, other_agents={"x": {}})
    assert context.upstream_validation is explicit


def test_other_agents_must_be_dicts_and_are_read_only(artifacts):
    with pytest.raises(InputError, match="other_agents must map agent names to dicts"):
        AgentContext(artifacts, other_agents={"data": 3})
    context = AgentContext(artifacts, other_agents={"data": {"n_bad_rows": 2}})
    with pytest.raises(TypeError):
        context.other_agents["data"]["n_bad_rows"] = 0
