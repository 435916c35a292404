import logging

from accounts.id_numbers import scrub_id_numbers


class MaskIdNumbersFilter(logging.Filter):
    """Masks any 18-character ID number in a log record: personal data never reaches the logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = scrub_id_numbers(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True
