from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from accounts.api.errors import Code, error_body


@csrf_exempt
def not_found(request: HttpRequest, *args, **kwargs) -> JsonResponse:
    errors = [{"code": str(Code.NOT_FOUND), "message": "No such endpoint."}]
    return JsonResponse(error_body(404, errors), status=404)
