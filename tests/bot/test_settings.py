import pytest
from pydantic import ValidationError

from bot.settings import Settings


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)


def test_defaults_run_with_no_accounts() -> None:
    s = settings()
    assert s.port == 8080
    assert s.timezone == "America/Santiago"
    assert s.database_url.startswith("sqlite+aiosqlite:///")
    assert s.telegram_api_base_url == "https://api.telegram.org/bot"
    assert s.twilio_api_base_url == "https://api.twilio.com"
    assert (s.telegram_rate_limit, s.whatsapp_rate_limit) == (30, 80)
    assert s.forwarded_allow_ips == ""  # no proxy is believed until one is named


def test_forwarded_allow_ips_takes_addresses_networks_or_any(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", " 127.0.0.1, 10.0.0.0/8 ,::1")
    assert Settings(_env_file=None).forwarded_allow_ips == "127.0.0.1,10.0.0.0/8,::1"
    assert settings(forwarded_allow_ips="*").forwarded_allow_ips == "*"


def test_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "9090")
    monkeypatch.setenv("QUIET_HOURS", "21:00-09:00")
    monkeypatch.setenv("TWILIO_API_BASE_URL", "http://127.0.0.1:9000/")
    s = Settings(_env_file=None)
    assert s.port == 9090
    assert s.quiet_hours == "21:00-09:00"
    assert s.twilio_api_base_url == "http://127.0.0.1:9000"


def test_env_example_as_is_gives_a_working_setup(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    from routing.understand import DEFAULT_DATA_DIR

    env = tmp_path / ".env"
    env.write_text((Path(__file__).parents[2] / ".env.example").read_text(encoding="utf-8"), encoding="utf-8")
    s = Settings(_env_file=env)
    assert s.data_dir == DEFAULT_DATA_DIR
    assert s.quiet_hours == "21:00-09:00"


def test_every_setting_is_in_env_example() -> None:
    from pathlib import Path

    example = (Path(__file__).parents[2] / ".env.example").read_text(encoding="utf-8")
    keys = {line.split("=", 1)[0] for line in example.splitlines() if line and not line.startswith("#")}
    assert keys == {name.upper() for name in Settings.model_fields}


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"quiet_hours": "9pm-9am"}, "HH:MM-HH:MM"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"telegram_webhook_secret": "no spaces allowed"}, "A-Z"),
        ({"port": 0}, "port"),
        ({"forwarded_allow_ips": "127.0.0.1, mi-proxy"}, "'mi-proxy' is no IP address"),
        ({"whatsapp_rate_limit": 0}, "whatsapp_rate_limit"),
        ({"public_url": "https://vecinos.example.cl", "secret_key": "short"}, "SECRET_KEY"),
        (
            {
                "public_url": "https://vecinos.example.cl",
                "secret_key": "k" * 40,
                "telegram_bot_token": "1:abc",
            },
            "TELEGRAM_WEBHOOK_SECRET",
        ),
    ],
)
def test_unsafe_or_malformed_settings_are_refused(values: dict, complaint: str) -> None:
    with pytest.raises(ValidationError, match=complaint):
        settings(**values)
