"""APScheduler wiring only: a foreground scheduler whose job store lives in the state database.

The stored job holds only the settings file's and secrets file's paths, never a secret: the job loads
the settings itself each time it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from sync.errors import ConfigError
from sync.settings import ScheduleSettings

JOB_ID = "crm-sync-run"
JOB_TABLE = "crm_sync_scheduler_jobs"


def cron_trigger(schedule: ScheduleSettings) -> CronTrigger:
    """The schedule's cron expression as a trigger; a bad one is a ConfigError naming the setting."""
    try:
        return CronTrigger.from_crontab(schedule.cron, timezone=schedule.timezone)
    except ValueError as error:
        raise ConfigError(f"schedule.cron {schedule.cron!r} (CRM_SYNC_SCHEDULE__CRON) is not a cron expression "
                          f"like '0 2 * * *': {error}") from None


def build_scheduler(schedule: ScheduleSettings, state_url: str, job: Callable[..., Any],
                    job_kwargs: dict[str, Any], run_now: bool = False) -> BlockingScheduler:
    """A scheduler running ``job`` on the schedule; missed runs are coalesced into one within the grace time."""
    scheduler = BlockingScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=state_url, tablename=JOB_TABLE)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": schedule.misfire_grace_seconds},
        timezone=schedule.timezone,
    )
    trigger = cron_trigger(schedule)
    scheduler.add_job(job, trigger, id=JOB_ID, kwargs=job_kwargs, replace_existing=True, name="crm-sync run")
    if run_now:
        scheduler.add_job(job, id=f"{JOB_ID}-now", kwargs=job_kwargs, replace_existing=True,
                          next_run_time=datetime.now(trigger.timezone), name="crm-sync run (now)")
    return scheduler
