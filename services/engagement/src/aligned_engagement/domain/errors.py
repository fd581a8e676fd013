"""What the handlers refuse: aligned_common.errors' kinds, with this service's titles."""

from aligned_common import errors


class ItemNotFound(errors.NotFound):
    title = "Inbox item not found"


class TemplateNotFound(errors.NotFound):
    title = "Template not found"


class IllegalTransition(errors.Conflict):
    title = "Illegal state change"


class NotReplyable(errors.Conflict):
    title = "Item cannot be answered"


class ConnectionUnknown(errors.Conflict):  # its connections.connected has not arrived (yet)
    title = "Connection unknown"


class DuplicateTemplate(errors.Conflict):
    title = "Template name taken"


class Invalid(errors.Invalid):
    title = "Invalid request"
