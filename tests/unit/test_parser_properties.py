"""Property-based tests (Hypothesis) of the parsers that take outside input in the deploy Lambda:
the EventBridge event and the package metadata. Whatever they are fed, they answer with a value or
their own error (a skip, a UserError) whose message stays short; never another exception."""

import copy
import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deploy_lambda import limits
from deploy_lambda.events import PackageEvent, Skip, check_endpoint_event, package_event
from deploy_lambda.settings import Settings
from model_registry import tunable_env
from model_registry.contract import Recommendation, decode_environment
from model_registry.errors import UserError
from tests.conftest import FIXTURES
from tests.unit.test_deploy_lambda import ACCOUNT, ENV, REGION

SETTINGS = Settings.from_env(ENV)
EVENT = json.loads((FIXTURES / "events" / "model_package_approved.json").read_text())
ENDPOINT_EVENT = json.loads((FIXTURES / "events" / "endpoint_in_service.json").read_text())
# A skip reason quotes outside values cut short; with the fixed text around them it stays below this.
MAX_REASON = 600
# No example database: each run is a new machine, and a failure prints its example.
PROPERTIES = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=2000),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=30), children, max_size=5),
    max_leaves=30,
)
# ARNs near the real shape, so the parser's checks past the pattern are reached too.
arns = st.builds(
    "arn:{}:sagemaker:{}:{}:model-package/{}/{}".format,
    st.sampled_from(["aws", "aws-cn", "aws-us-gov", "aws x", ""]),
    st.sampled_from([REGION, "eu-west-1", "US-EAST-1", ""]),
    st.sampled_from([ACCOUNT, "999999999999", "12345678901", "１２３４５６７８９０１２"]),
    st.sampled_from(["rtb-bid-filter", "other", "rtb--bid", "-x", "a" * 64]),
    st.one_of(st.integers(min_value=0, max_value=10**12).map(str), st.text(max_size=12)),
)
package_fields = st.sampled_from(
    [
        ("source",),
        ("detail-type",),
        ("account",),
        ("region",),
        ("detail",),
        ("detail", "ModelPackageGroupName"),
        ("detail", "ModelPackageArn"),
        ("detail", "ModelPackageVersion"),
        ("detail", "ModelApprovalStatus"),
        ("detail", "CreationTime"),
    ]
)


def _with(event: dict, path: tuple[str, ...], value) -> dict:
    out = copy.deepcopy(event)
    node = out
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return out


def _package_event_or_skip(event) -> PackageEvent | None:
    try:
        return package_event(event, SETTINGS, ACCOUNT, REGION)
    except Skip as skip:
        assert len(str(skip)) < MAX_REASON, str(skip)[:200]
        return None


@PROPERTIES
@given(path=package_fields, value=st.one_of(json_values, arns))
def test_any_value_in_any_field_is_a_package_event_or_a_short_skip(path, value):
    parsed = _package_event_or_skip(_with(EVENT, path, value))
    if parsed is not None:
        # What passes is exactly this function's: its group, account and Region, a real version.
        assert (parsed.group, parsed.account, parsed.region) == (SETTINGS.model_package_group, ACCOUNT, REGION)
        assert parsed.arn == f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/{parsed.group}/{parsed.version}"
        assert parsed.status in ("Approved", "Rejected") and parsed.version >= 1


@PROPERTIES
@given(arn=arns, version=st.one_of(st.integers(min_value=-5, max_value=10**12), json_values))
def test_arn_and_version_must_agree(arn, version):
    event = _with(_with(EVENT, ("detail", "ModelPackageArn"), arn), ("detail", "ModelPackageVersion"), version)
    parsed = _package_event_or_skip(event)
    if parsed is not None:
        assert parsed.arn == arn and arn.endswith(f"/{version}")


@PROPERTIES
@given(event=json_values)
def test_anything_at_all_is_skipped_not_raised(event):
    assert _package_event_or_skip(event) is None


@PROPERTIES
@given(path=st.sampled_from([("detail", "EndpointName"), ("detail", "EndpointStatus"), ("region",)]), value=json_values)
def test_endpoint_event_fields(path, value):
    try:
        check_endpoint_event(_with(ENDPOINT_EVENT, path, value), SETTINGS, ACCOUNT, REGION)
    except Skip as skip:
        assert len(str(skip)) < MAX_REASON
    else:
        assert value in (SETTINGS.endpoint_name, REGION) or re.fullmatch(r"(?i)in_?service", value)


# --- the package metadata ------------------------------------------------------------------------

# What CustomerMetadataValue allows: letters, digits, white space and _.:/=+-@, up to 256.
metadata_text = st.text(
    alphabet=st.characters(categories=("L", "N", "Zs"), include_characters="_.:/=+-@"), max_size=256
)
near_numbers = st.one_of(
    st.integers(min_value=-(10**12), max_value=10**300).map(str),
    st.floats().map(str),
    st.sampled_from(["1e9", "1_000", " 4 ", "０", "4.0", "-", ""]),
)
environments = st.one_of(
    metadata_text,
    st.dictionaries(
        st.sampled_from([*sorted(tunable_env.TUNABLE), "SAGEMAKER_PROGRAM", "LD_PRELOAD", "A"]),
        st.one_of(st.integers(min_value=-1, max_value=1000).map(str), metadata_text.filter(lambda t: " " not in t)),
        max_size=3,
    ).map(lambda env: " ".join(f"{k}={v}" for k, v in env.items()) or "-"),
)
base_properties = {
    **Recommendation("job", "job/1", "ml.c5.large", 4, 46800, 2.0, 4.2e-8, 0.119, 32760, 2, 20, {}).to_properties(),
    "gate_decision": "passed",
}
property_edits = st.dictionaries(
    st.sampled_from(sorted(base_properties)),
    st.one_of(metadata_text, near_numbers, environments, st.sampled_from(["ml.fake.large", "ml.c5.xlarge"])),
    max_size=6,
)


@PROPERTIES
@given(edits=property_edits, drop=st.sets(st.sampled_from(sorted(base_properties)), max_size=2))
def test_any_metadata_parses_or_is_refused_by_name(edits, drop):
    props = {k: v for k, v in {**base_properties, **edits}.items() if k not in drop}
    arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:model-package/rtb-bid-filter/1"
    try:
        rec = Recommendation.from_properties(arn, props)
    except UserError as exc:
        assert str(exc).startswith(arn) and len(str(exc)) < 2000
        return
    problems = limits.problems(rec, SETTINGS)
    if not problems:
        # What the Lambda lets through is within its own line, whatever the edit was.
        counts = (rec.min_instance_count, rec.recommended_instance_count, rec.max_instance_count)
        assert 1 <= counts[0] <= counts[1] <= counts[2] <= SETTINGS.max_instances
        assert rec.recommended_instance_type in SETTINGS.instance_types
        assert set(rec.environment) <= tunable_env.TUNABLE
        assert all(1 <= int(v) <= tunable_env.MAX_COUNT for v in rec.environment.values())


@PROPERTIES
@given(
    count=st.integers(min_value=1, max_value=10**12),
    bounds=st.tuples(st.integers(min_value=1, max_value=10**12), st.integers(min_value=1, max_value=10**12)),
    instance_type=st.sampled_from(["ml.c5.large", "ml.fake.large"]),
    threads=st.integers(min_value=1, max_value=400),
)
def test_a_recommendation_round_trips_and_limits_name_each_key(count, bounds, instance_type, threads):
    low, high = sorted(bounds)
    env = {"OMP_NUM_THREADS": str(threads)}
    rec = Recommendation("job", "job/1", instance_type, count, 46800, 2.0, 4.2e-8, 0.119, 32760, low, high, env)
    assert Recommendation.from_properties("arn", rec.to_properties()) == rec
    named = {problem.split(" ", 1)[0] for problem in limits.problems(rec, SETTINGS)}
    expected = {
        "recommended_instance_count": count > SETTINGS.max_instances or not low <= count <= high,
        "min_instance_count": low > SETTINGS.max_instances,
        "max_instance_count": high > SETTINGS.max_instances,
        "recommended_instance_type": instance_type == "ml.fake.large",
        "environment:": threads > tunable_env.MAX_COUNT,
    }
    assert named == {key for key, wrong in expected.items() if wrong}


@PROPERTIES
@given(text=st.text(max_size=300))
def test_any_environment_text_decodes_or_is_refused(text):
    try:
        env = decode_environment(text)
    except UserError:
        return
    assert all(isinstance(v, str) for v in tunable_env.problems(env))
