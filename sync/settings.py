"""Settings from the environment (``CRM_SYNC_*``, ``__`` for nesting), a secrets file and a YAML file.

Priority, highest first: environment variables, the secrets file (dotenv format, same names as the
environment variables), the settings file (``config/sync.yaml`` by default), then the defaults below.
"""

from __future__ import annotations

import difflib
import json
import logging
import os
import stat
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, get_args, get_origin
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.exceptions import SettingsError

from sync.connectors.provider_registry import DEFAULT_PROVIDER, ProviderName, kit
from sync.errors import ConfigError
from sync.state.models import AUDIENCE_LENGTH
from sync.yamlfile import YamlDocument, dotted, model_keys, read_text_file, read_yaml

log = logging.getLogger(__name__)

ENV_PREFIX = "CRM_SYNC_"
DEFAULT_CONFIG = Path("config/sync.yaml")
# Variables that steer loading and are not settings themselves. The last one, set to "warn", accepts a
# secrets file that others can read (with a warning) instead of refusing it.
LOADING_VARIABLES = ("CONFIG", "SECRETS_FILE", "SECRETS_FILE_READABLE")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CrmSettings(_Section):
    """Where the CRM is and how to read it."""

    kind: str = Field("sql", description="Which kind of CRM (sync/connectors/crm_registry.py): sql = a SQL database "
                                         "described by schema_file (the embedded CRM by default); espocrm and "
                                         "vtiger = those applications over their APIs.")
    base_url: str | None = Field(
        None, description="EspoCRM or vtiger: the CRM's web address, e.g. https://crm.example.org (no /api/v1).")
    api_user: str | None = Field(None, description="vtiger: the user whose access key is api_key.")
    api_key: SecretStr | None = Field(
        None, description="EspoCRM: the API user's API key; vtiger: the user's access key (My Preferences).")
    api_secret: SecretStr | None = Field(
        None, description="EspoCRM: the HMAC secret key of an API user with HMAC authentication (else API key).")
    entity: str | None = Field(
        None, description="Which records are the contacts: EspoCRM Contact (default) or Lead; vtiger Contacts "
                          "(default) or Leads.")
    timeout_seconds: float = Field(30, gt=0, le=600, description="EspoCRM or vtiger: timeout of one request.")
    retry_seconds: float = Field(
        120, ge=0, le=3600, description="EspoCRM or vtiger: how long a failing request is retried before the run "
                                        "gives up on it (timeouts, 5xx, 429).")
    read_url: SecretStr | None = Field(
        None, description="vtiger: SQLAlchemy URL of its MySQL/MariaDB database for a SELECT-only user; contacts "
                          "are then read from the database (large installations), writes still go through the API.")
    url: SecretStr = Field(
        SecretStr("sqlite:///data/crm.db"),
        description="SQLAlchemy URL of the CRM database (a secret: it may hold a password).",
    )
    schema_file: Path | None = Field(
        None, description="Schema description of the CRM database; default: the embedded CRM's."
    )
    chunk_size: int = Field(1000, ge=1, le=100_000, description="Contacts read per query.")
    change_overlap_seconds: int = Field(
        300, ge=0, le=86_400,
        description="An incremental push re-reads contacts changed this long before the last push started "
                    "(clock differences, late commits); a contact read twice is not written twice.")


class StateSettings(_Section):
    """Where crm-sync keeps its own state."""

    url: SecretStr = Field(
        SecretStr("sqlite:///data/state.db"),
        description="SQLAlchemy URL of the state store (SQLite file by default, PostgreSQL in production).",
    )


class LeavePolicy(StrEnum):
    """What happens to a member who left the audience in the CRM (deleted, lost consent, left the list)."""

    KEEP = "keep"
    UNSUBSCRIBE = "unsubscribe"
    ARCHIVE = "archive"


class AudienceSettings(_Section):
    """One provider audience kept equal to a set of CRM contacts."""

    provider: ProviderName = Field(DEFAULT_PROVIDER, description="Which provider holds the audience.")
    audience_id: str | None = Field(
        None, min_length=1,
        description="The Mailchimp audience (list) id; Spotler has one contact database per account.")
    permission_bits: list[int] = Field(
        default_factory=list,
        description="Spotler: the account's permission bits that mean consent for this audience "
                    "(e.g. [1] = Nieuwsbrief).",
    )
    mapping: str | None = Field(None, description="Audience section of the mapping file; default: this name.")
    target_list: str | None = Field(
        None, description="Only members of this CRM target list (id or name); default: every contact."
    )
    consent_field: str = Field(
        "email_opt_in",
        description="CRM field whose true value is e-mail consent: email_opt_in or a custom checkbox field.",
    )
    leave_policy: LeavePolicy = Field(LeavePolicy.KEEP, description="keep, unsubscribe or archive.")
    reoptin: bool = Field(
        False, description="Ask members in a compliance state to re-opt-in (status pending: Mailchimp mails them)."
    )
    safety_threshold: float = Field(
        0.10, ge=0, le=1, description="Stop before unsubscribing or archiving more than this share of the audience."
    )
    ownership_tag: str = Field("crm-sync", min_length=1, max_length=100,
                               description="Tag marking members this connector added; only they are archived.")
    pull_window_days: int = Field(30, ge=1, le=3650,
                                  description="Pull engagement of campaigns sent in this many past days.")
    history: Literal["campaign", "event"] = Field(
        "campaign", description="CRM history: one entry per contact per campaign, or one per event.")
    full_every_days: int = Field(
        7, ge=1, le=365,
        description="A push reads every CRM contact at least this often (deletes and undated changes); the "
                    "others read only the contacts changed since the last push.")

    @model_validator(mode="after")
    def _provider_needs(self) -> AudienceSettings:
        kit(self.provider).check_audience(self)  # what this provider needs (sync/connectors/<provider>/kit.py)
        if any(bit < 1 for bit in self.permission_bits):
            raise ValueError("permission_bits are positive numbers, as Spotler lists them in contact/properties/list")
        return self


def check_base_url(value: str | None) -> str | None:
    """An http(s) URL with a host, checked before any request is made (a typo is not an outage)."""
    if value is None:
        return None
    scheme, _, rest = value.partition("://")
    if scheme.lower() not in ("http", "https") or not rest or rest.startswith("/"):
        raise ValueError(f"{value[:80]!r} is not an http(s) URL with a host, like https://api.example.com/3.0")
    return value


class HttpProviderSettings(_Section):
    """What every provider connector needs: timeouts and how long to retry."""

    _valid_base_url = field_validator("base_url", check_fields=False)(check_base_url)

    timeout_seconds: float = Field(120, gt=0, description="Per-request timeout.")
    retry_seconds: float = Field(600, gt=0, description="Keep retrying rate limits, outages and timeouts this long.")
    retry_initial_wait: float = Field(0.5, gt=0, le=60, description="First backoff wait; it grows exponentially.")


class MailchimpSettings(HttpProviderSettings):
    """How to reach Mailchimp."""

    api_key: SecretStr | None = Field(None, description="Mailchimp API key (<32 hex>-<datacenter>).")
    base_url: str | None = Field(
        None, description="API base URL; default https://<dc>.api.mailchimp.com/3.0 from the key's datacenter."
    )
    concurrency: int = Field(9, ge=1, le=10, description="Requests in flight; Mailchimp refuses more than 10.")
    batch_size: int = Field(500, ge=1, le=500, description="Members per batch request (Mailchimp's maximum: 500).")
    report_page_size: int = Field(500, ge=1, le=1000,
                                  description="Rows per report page (1000 is the maximum; heavy reports time out).")
    feed_lag_seconds: int = Field(
        300, ge=0, le=86400,
        description="Engagement is read up to this long before the run started and re-read from this long "
                    "before each cursor, so events Mailchimp shows late are not missed (the ledger drops repeats).")


class SpotlerSettings(HttpProviderSettings):
    """How to reach Spotler Mail+ (OAuth 1.0a consumer key and secret, made under Integrations in Mail+)."""

    consumer_key: SecretStr | None = Field(None, description="Spotler REST API key.")
    consumer_secret: SecretStr | None = Field(None, description="Spotler REST API secret.")
    base_url: str = Field("https://restapi.mailplus.nl/integrationservice-1.1.0",
                          description="Versioned API base URL.")
    batch_size: int = Field(100, ge=1, le=100,
                            description="Contacts per contact/list request (Spotler's maximum: 100).")
    concurrency: int = Field(2, ge=1, le=10, description="Requests in flight.")
    requests_per_second: float = Field(
        5, ge=0, description="Client-side throttle (Spotler documents no limit; 0 turns it off).")
    page_size: int = Field(1000, ge=1, le=10000, description="Rows per feed page (Spotler's maximum: 10000).")
    feed_lag_seconds: int = Field(
        300, ge=0, le=86400,
        description="Feeds are read up to this long before now and re-read from this long before the cursor, "
                    "so records that appear late are not missed (the ledger drops repeats).")


class ScheduleSettings(_Section):
    """When `crm-sync schedule` runs every audience (push, then pull)."""

    cron: str = Field("0 2 * * *", description="Cron expression (minute hour day month weekday).")
    timezone: str = Field("UTC", description="Time zone of the cron expression, e.g. Europe/Amsterdam.")
    misfire_grace_seconds: int = Field(
        3600, ge=1, description="A run missed (scheduler down) is still made up this long after its time."
    )

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}; use a name like Europe/Amsterdam or UTC") from None
        return value


class Settings(BaseSettings):
    """Everything crm-sync can be told. Load it with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", case_sensitive=False
    )

    crm: CrmSettings = Field(default_factory=CrmSettings)
    state: StateSettings = Field(default_factory=StateSettings)
    mapping_file: Path = Field(Path("config/mapping.yaml"), description="The field-mapping file.")
    segments_file: Path = Field(Path("config/segments.yaml"),
                                description="The segment definitions: marketers' selections of contacts.")
    mailchimp: MailchimpSettings = Field(default_factory=MailchimpSettings)
    spotler: SpotlerSettings = Field(default_factory=SpotlerSettings)
    audiences: dict[str, AudienceSettings] = Field(default_factory=dict)
    schedule: ScheduleSettings = Field(default_factory=ScheduleSettings)
    lock_ttl_seconds: float = Field(
        120, gt=0, description="A run that stops renewing the run lock this long (killed, machine lost) loses it."
    )
    log_format: Literal["text", "json"] = "text"

    @field_validator("audiences")
    @classmethod
    def _audience_names_fit(cls, value: dict[str, AudienceSettings]) -> dict[str, AudienceSettings]:
        too_long = [name for name in value if len(name) > AUDIENCE_LENGTH]
        if too_long:  # the state store keys runs and members by name
            raise ValueError(f"audience name {too_long[0]!r} has {len(too_long[0])} characters; at most "
                             f"{AUDIENCE_LENGTH} are allowed")
        return value


class _FileSource(PydanticBaseSettingsSource):
    """The settings file as a pydantic-settings source, below the environment."""

    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]):
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field, field_name):  # pragma: no cover - __call__ is used instead
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return self._data


def load_settings(config_path: Path | None = None, secrets_file: Path | None = None) -> Settings:
    """Load and validate settings; any problem is one ConfigError naming the variable and the file key.

    ``config_path`` falls back to ``CRM_SYNC_CONFIG`` and then to ``config/sync.yaml`` (optional only
    when neither was given). ``secrets_file`` falls back to ``CRM_SYNC_SECRETS_FILE``.
    """
    explicit = config_path or os.environ.get(f"{ENV_PREFIX}CONFIG")
    path = Path(explicit) if explicit else DEFAULT_CONFIG
    document = read_yaml(path) if (explicit or path.exists()) else None
    data = document.data if document else {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the settings file must be a mapping of keys, not {type(data).__name__}")
    secrets = secrets_file or os.environ.get(f"{ENV_PREFIX}SECRETS_FILE")
    if secrets:
        check_secrets_file(Path(secrets), os.environ.get(f"{ENV_PREFIX}SECRETS_FILE_READABLE") == "warn")

    class _Bound(Settings):
        @classmethod
        def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                       file_secret_settings):
            return init_settings, env_settings, dotenv_settings, _FileSource(settings_cls, data)

    # Variables that only steer loading are not settings themselves.
    hidden = {name: os.environ.pop(name) for name in (ENV_PREFIX + variable for variable in LOADING_VARIABLES)
              if name in os.environ}
    try:
        return _Bound(_env_file=secrets)
    except ValidationError as error:
        raise ConfigError(describe_errors(error, document, path)) from None
    except SettingsError as error:
        raise ConfigError(_unparsable_variable(error, dotenv_values(secrets) if secrets else {})) from None
    finally:
        os.environ.update(hidden)


def check_secrets_file(path: Path, readable_ok: bool) -> None:
    """Refuse a secrets file that is missing, not UTF-8, or readable by others (unless told to only warn)."""
    if not path.is_file():
        raise ConfigError(f"secrets file {path} (CRM_SYNC_SECRETS_FILE) does not exist")
    read_text_file(path)
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        message = (f"secrets file {path} can be read by other users (mode {stat.filemode(mode)}); "
                   f"run `chmod 600 {path}`")
        if not readable_ok:
            raise ConfigError(message + " (or set CRM_SYNC_SECRETS_FILE_READABLE=warn to use it anyway)")
        log.warning("%s", message)


def _unparsable_variable(error: SettingsError, from_secrets: dict[str, str | None]) -> str:
    """Name the variables behind a value pydantic-settings could not parse (their values stay unshown)."""
    field = str(error).split('"')[1] if str(error).count('"') >= 2 else ""
    prefix = f"{ENV_PREFIX}{field.upper()}"
    values = {name: value or "" for name, value in from_secrets.items()} | dict(os.environ)
    names = sorted(name for name in values if name.upper() == prefix or name.upper().startswith(prefix + "__"))
    culprits = [name for name in names if _unreadable_json(name, values[name])]
    names = culprits or names
    where = ("one of " + ", ".join(names)) if len(names) > 1 else (names[0] if names else f"{prefix}*")
    return (f"invalid settings: cannot read {where} (environment or secrets file): a list or a whole section is "
            f"written as JSON (e.g. CRM_SYNC_AUDIENCES__NEWS__PERMISSION_BITS='[1]'), or set its parts one by one "
            f"(e.g. {ENV_PREFIX}STATE__URL, not {ENV_PREFIX}STATE).")


def _unreadable_json(name: str, value: str) -> bool:
    """Whether variable ``name`` sets a list or a section (read as JSON) to a value that is not JSON."""
    annotation: Any = Settings
    for part in name[len(ENV_PREFIX):].lower().split("__"):
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            info = annotation.model_fields.get(part)
            annotation = info.annotation if info else None
        elif get_origin(annotation) is dict:
            annotation = get_args(annotation)[1]
        else:
            return False
    complex_value = (isinstance(annotation, type) and issubclass(annotation, BaseModel)) or get_origin(annotation) in (
        list, dict)
    if not complex_value:
        return False
    try:
        json.loads(value)
    except ValueError:
        return True
    return False


def describe_errors(error: ValidationError, document: YamlDocument | None, path: Path) -> str:
    """One line per invalid setting, naming the environment variable and the settings-file key."""
    lines = ["invalid settings:"]
    for item in error.errors():
        location = tuple(part for part in item["loc"] if part != "_Bound")
        key = dotted(location)
        named = location[:next((i for i, part in enumerate(location) if isinstance(part, int)), len(location))]
        env_name = ENV_PREFIX + "__".join(str(part).upper() for part in named)  # a list is one variable
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown setting" + _suggestion(location)
        where = f"key {key} in {path}"
        line = document.line_of(location) if document else None
        if line:
            where += f" (line {line})"
        lines.append(f"- {key}: {message}. Set {env_name} or {where}.")
    return "\n".join(lines)


def _suggestion(location: tuple) -> str:
    close = difflib.get_close_matches(str(location[-1]), model_keys(Settings, location[:-1]), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
