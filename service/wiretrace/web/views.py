"""Each page: the client calls it needs, then its rendering. Client errors propagate; the app maps
them to status pages in one place (:func:`wiretrace.web.app.error_response`)."""

from __future__ import annotations

from wiretrace_client import Client, Match, NotFound

from wiretrace.web import pages
from wiretrace.web.layout import article_url
from wiretrace.web.routing import HttpError, Request, Response, Router
from wiretrace.web.settings import WebSettings


class Views:
    def __init__(self, client: Client, settings: WebSettings) -> None:
        self.client = client
        self.settings = settings

    def router(self) -> Router:
        router = Router()
        router.add("GET", "/", self.home)
        router.add("GET", "/articles", self.lookup)
        router.add("GET", "/articles/{article_id}", self.article)
        router.add("GET", "/articles/{article_id}/lineage", self.lineage)
        router.add("GET POST", "/matches", self.matches)
        return router

    def _page(self, body: str) -> Response:
        return Response(200, body)

    def home(self, request: Request) -> Response:
        return self._page(pages.home(self.settings.server))

    def lookup(self, request: Request) -> Response:
        """The look-up form: ``/articles?id=X`` -> ``/articles/X``."""
        article_id = request.param("id").strip()
        if not article_id:
            raise HttpError(400, "Give an article id.")
        return Response.redirect(article_url(article_id))

    def article(self, request: Request, article_id: str) -> Response:
        article = self.client.get_article(article_id)
        matches = self.client.find_matches(article_id=article_id, max_matches=self.settings.max_matches)
        return self._page(pages.article_page(article, self._with_articles(matches), self.settings.server))

    def matches(self, request: Request) -> Response:
        text = request.param("text")
        if not text.strip():
            if request.method == "GET":
                return self._page(pages.home(self.settings.server))
            raise HttpError(400, "Paste a text to match.")
        matches = self.client.find_matches(text=text, max_matches=self.settings.max_matches)
        return self._page(pages.text_page(text, self._with_articles(matches), self.settings.server))

    def _with_articles(self, matches: list[Match]) -> list[pages.MatchView]:
        views = []
        for match in matches:
            try:
                other = self.client.get_article(match.article_id)
            except NotFound:  # deleted since it matched
                other = None
            views.append(pages.MatchView(match, other))
        return views

    def lineage(self, request: Request, article_id: str) -> Response:
        """Every cluster of the article, first page each; or, with ``cluster`` and ``page_token``
        (the "next page" link), one page of one cluster."""
        article = self.client.get_article(article_id)
        size = self.settings.page_size
        focus = request.param("cluster")
        if focus:
            cluster, token = self.client.cluster_page(focus, page_size=size, page_token=request.param("page_token"))
            views = [pages.ClusterPage(cluster, _count(request.param("start")), token)]
        else:
            views = []
            for summary in self.client.clusters_of(article_id):
                cluster, token = self.client.cluster_page(summary.cluster_id, page_size=size)
                views.append(pages.ClusterPage(cluster, 0, token))
        return self._page(pages.lineage_page(article, views, size, self.settings.server, focused=bool(focus)))


def _count(text: str) -> int:
    """A position given in a link (only shown, never trusted for paging); 0 unless plain digits."""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else 0
