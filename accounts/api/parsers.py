"""Request bodies are JSON (api.md "JSON in and out"), whatever the Content-Type header says.

`JSONParser` answers `application/json`. A caller that sends its JSON without that header (`curl -d '{...}'` says
`application/x-www-form-urlencoded`; `requests.post(url, data=json.dumps(body))` and many HTTP libraries send no
Content-Type at all) still gets its body read as JSON: a body that is not JSON is then malformed input, 400, the
status api.md gives, rather than a 415 the contract does not name.
"""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSONParser, with a body nested deeper than Python's decoder goes (about a thousand `[`, two kilobytes)
    malformed input too: DRF turns the decoder's ValueError into a ParseError (400) but lets its RecursionError through
    (a 500)."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply") from None


class AnyContentTypeJSONParser(parsers.BaseParser):
    """The fallback after JSONParser. Not a JSONParser subclass, so that the schema (SPECTACULAR_SETTINGS
    PARSER_WHITELIST) keeps naming application/json alone."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return JSONParser().parse(stream, media_type, parser_context)
