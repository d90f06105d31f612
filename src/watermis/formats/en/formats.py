# The same date style in English as in Chinese.
from watermis.formats.zh_Hans.formats import *  # noqa: F403
