"""The public post page a post's URL points at (GET /@<account>/posts/<id>): its text, every
media item the platform received, with type, byte size and sha256, and its place in a reply
chain (the posts it answers, first post first, and its direct replies), and the per-platform
fields it was published with (visibility, sensitive)."""

from __future__ import annotations

from html import escape
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from aligned_sandbox.errors import SandboxError
from aligned_sandbox.posts import Post
from aligned_sandbox.routes.deps import get_sandbox
from aligned_sandbox.state import Sandbox

router = APIRouter(tags=["pages"])


@router.get("/@{account}/posts/{post_id}", response_class=HTMLResponse)
async def post_page(
    account: str, post_id: str, sandbox: Annotated[Sandbox, Depends(get_sandbox)]
) -> HTMLResponse:
    post = sandbox.posts.find(post_id)
    if post is None or not post.url.endswith(f"/@{account}/posts/{post_id}"):
        raise SandboxError(404, "not_found", f"no post {post_id} of @{account}")
    rows = "".join(
        f'<tr class="media" data-id="{escape(m.id)}" data-sha256="{m.sha256}" data-size-bytes="{m.size_bytes}">'
        f"<td>{escape(m.id)}</td><td>{escape(m.mime_type)}</td><td>{m.size_bytes}</td><td><code>{m.sha256}</code></td>"
        f'<td class="alt">{escape(m.alt_text)}</td></tr>'
        for m in sandbox.posts.media_of(post)
    )
    reply_to = escape(post.in_reply_to_id or "")
    return HTMLResponse(
        f"<!doctype html><html><head><title>@{escape(account)} · {escape(post_id)}</title></head><body>"
        f'<ol class="reply-chain">{_links(sandbox.posts.reply_chain(post))}</ol>'
        f'<article id="{escape(post.id)}" data-status="{post.status}" data-in-reply-to="{reply_to}"'
        f' data-visibility="{post.visibility}" data-sensitive="{str(post.sensitive).lower()}">'
        f'<p class="text">{escape(post.text)}</p>'
        f'<p class="visibility">{post.visibility}{" · sensitive" if post.sensitive else ""}</p>'
        f"<table><thead><tr><th>media</th><th>type</th><th>bytes</th><th>sha256</th><th>alt text</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></article>"
        f'<ol class="replies">{_links(sandbox.posts.replies_to(post))}</ol></body></html>'
    )


def _links(posts: list[Post]) -> str:
    return "".join(
        f'<li class="post" data-id="{escape(p.id)}"><a href="{escape(p.url)}">{escape(p.text)}</a></li>'
        for p in posts
    )
