"""Reply texts and buttons, in the person's language (English or Chinese). Button payloads
are Rasa intent payloads that carry the item id (chatrec/contracts.py `payload`), so a press
reaches the right intent and item without NLU.

A list (and an item's details, its reasons, a comparison) is one message:
plain text, which `rasa shell` and `rasa interactive` show, plus the same
content as data (chatrec/contracts.py `ReplyData`, in Rasa's custom JSON) that
the Telegram and Slack adapters render natively from its fields, with each
item's actions.

Catalog words (the item noun, genre names) come from the catalog's
vocabulary: in Chinese from its translations, else its own words.
"""

from __future__ import annotations

from chatrec.contracts import (
    CUSTOM_KEY,
    Intent,
    ReplyAction,
    ReplyData,
    ReplyItem,
    ReplyKind,
    action_kind,
    payload,
)
from chatrec.language import Language

EN, ZH = Language.ENGLISH.value, Language.CHINESE.value
# an item's buttons, in order; their titles are the TEXTS under the intent's name
ITEM_ACTIONS = (Intent.FEEDBACK_POSITIVE, Intent.FEEDBACK_NEGATIVE, Intent.ALREADY_SEEN, Intent.ASK_WHY)
TEXTS: dict[str, dict[str, str]] = {
    EN: {
        "feedback_positive": "👍 Like", "feedback_negative": "👎 Not for me", "already_seen": "✓ Seen it",
        "ask_why": "Why?",
        "list_footer": "Say \"more\", \"why the second one?\", \"I like the first one\" "
                       "or \"seen the third one\".",
        "unavailable": "My recommender is not answering right now, sorry.",
        "try_again": "My recommender is not answering right now, sorry. Please try again in a minute.",
        "popular_instead": "My recommender is not answering right now, sorry. Meanwhile, these are popular "
                           "and well liked:",
        "which_one": "Which one do you mean? Say \"the second one\", name the title, "
                     "or tap a button under it.",
        "shown_how_many": "I showed you {count} — which one do you mean?",
        "no_list_yet": "I haven't shown you a list yet. Ask me for a recommendation first.",
        "which_two": "Which two should I compare? For example: \"Fargo or Heat?\"",
        "recommend_header": "Here are {request} for you:",
        "more_header": "More {request}:",
        "why_header": "Why {label}?",
        "details_header": "Here it is:",
        "compare_header": "Side by side:",
        "compare_pick": "For you I'd pick {label}.",
        "nothing_left": "{reason} I've set that request aside: ask for something else, "
                        "or say \"start over\".",
        "outside_catalog": "My {side} {nouns} are from {year}, so I have nothing from then. "
                           "Try another time, or say \"start over\".",
        "newest": "newest", "oldest": "oldest",
        "not_rated": "Nobody has rated it yet.",
        "rated_one": "Rated {mean:.1f}/5 by 1 person.",
        "rated": "Rated {mean:.1f}/5 by {count} people.",
        "did_you_mean": "I couldn't find that title. Did you mean {suggestions}?",
        "unknown_title": "I couldn't find that title in my catalog. Check the spelling, or ask me for a "
                         "recommendation.",
        "or": " or ", "and": " and ", "list": ", ",
        "thanks_like": "Glad you like {label}! I'll look for more like it.",
        "thanks_dislike": "Noted: {label} is not for you. I'll steer away from it.",
        "thanks_seen": "Okay, you've seen {label}; I won't suggest it again.",
        "thanks_rating": "Thanks! {label}: {stars:g} out of 5.",
        "queued": " (My recommender is down right now; I'll store this as soon as it is back.)",
        "ask_stars": "How many stars, from 1 to 5? For example: \"4 out of 5\".",
        "ask_genre_or_item": "Tell me a {genre_word} or a {item_noun} you like.",
        "noted_like": "Got it: you like {things}. Say \"recommend something\" when you're ready.",
        "noted_dislike": "Got it: you don't like {things}. Say \"recommend something\" when you're ready.",
        "fresh_start": "Okay, a fresh start: no filters. What are you looking for?",
        "forgotten": "Done: I deleted everything I knew about you. Say hi to start again.",
        "forgotten_later": "Your conversation is deleted; your ratings will be deleted as soon as my "
                           "recommender is back.",
        "no_taste_caught": "I didn't catch a genre or a title there.",
        "no_prices": "My {nouns} have no prices, so I can't look for cheaper or pricier ones. "
                     "Try \"less well known\", \"newer\" or \"better rated\".",
        "critique_newer": "newer than {pivot}", "critique_older": "older than {pivot}",
        "critique_less_popular": "less well known than {pivot}",
        "critique_more_popular": "better known than {pivot}",
        "critique_better_rated": "better rated than {pivot}",
        "critique_different_genre": "not the genre of {pivot}",
        "critique_same_genre": "the genre of {pivot} but different",
        "critique_cheaper": "cheaper than {pivot}",
        "critique_pricier": "pricier than {pivot}", "the_list": "the last list", "it": "it",
        "excluded_genres": "not {genres}",
    },
    ZH: {
        "feedback_positive": "👍 喜欢", "feedback_negative": "👎 不感兴趣", "already_seen": "✓ 看过了",
        "ask_why": "为什么？",
        "list_footer": "可以说“换一批”“为什么推荐第二部？”“我喜欢第一部”或“第三部看过了”。",
        "unavailable": "抱歉，推荐服务暂时没有响应。",
        "try_again": "抱歉，推荐服务暂时没有响应，请过一分钟再试。",
        "popular_instead": "抱歉，推荐服务暂时没有响应。先看看这些热门又好评的：",
        "which_one": "你指的是哪一个？可以说“第二部”、说出名字，或者点它下面的按钮。",
        "shown_how_many": "我给你推荐了{count}个，你指的是哪一个？",
        "no_list_yet": "我还没给你推荐过呢。先让我推荐一些吧。",
        "which_two": "要比较哪两个？比如：“Fargo 和 Heat 哪个好？”",
        "recommend_header": "为你推荐这些{request}：",
        "more_header": "更多{request}：",
        "why_header": "为什么推荐 {label}？",
        "details_header": "详细信息：",
        "compare_header": "对比一下：",
        "compare_pick": "我会为你选 {label}。",
        "nothing_left": "没有可以推荐的{request}了（没有符合的，或者都已经推荐过、看过了）。"
                        "这个请求我先放一边了：换个要求，或者说“重新开始”。",
        "outside_catalog": "我这里{side}的{nouns}是{year}年的，那个时间的没有。"
                           "换个年代试试，或者说“重新开始”。",
        "newest": "最新", "oldest": "最早",
        "not_rated": "还没有人打过分。",
        "rated_one": "1个人打分，平均{mean:.1f}/5。",
        "rated": "{count}个人打分，平均{mean:.1f}/5。",
        "did_you_mean": "没找到这个名字。你是说 {suggestions} 吗？",
        "unknown_title": "我的目录里没找到这个名字。检查一下拼写，或者让我给你推荐。",
        "or": " 还是 ", "and": "和", "list": "、",
        "thanks_like": "很高兴你喜欢 {label}！我会找更多类似的。",
        "thanks_dislike": "记下了：{label} 不合你的口味，我会避开这类。",
        "thanks_seen": "好的，你看过 {label} 了，我不会再推荐它。",
        "thanks_rating": "谢谢！{label}：{stars:g}/5。",
        "queued": "（推荐服务暂时不可用，恢复后我会马上保存。）",
        "ask_stars": "打几星？1到5，比如“4分”。",
        "ask_genre_or_item": "告诉我一个你喜欢的{genre_word}或{item_noun}吧。",
        "noted_like": "记住了：你喜欢{things}。准备好了就说“推荐一下”。",
        "noted_dislike": "记住了：你不喜欢{things}。准备好了就说“推荐一下”。",
        "fresh_start": "好的，重新开始，条件都清空了。你想找什么？",
        "forgotten": "好了：关于你的所有信息都删除了。说声“你好”就能重新开始。",
        "forgotten_later": "对话已删除；推荐服务恢复后会马上删除你的评分。",
        "no_taste_caught": "我没听出类型或名字。",
        "no_prices": "我这里的{nouns}没有价格，没法找更便宜或更贵的。"
                     "可以试试“冷门一点的”“新一点的”或“评分更高的”。",
        "critique_newer": "比{pivot}新", "critique_older": "比{pivot}老",
        "critique_less_popular": "比{pivot}冷门", "critique_more_popular": "比{pivot}热门",
        "critique_better_rated": "比{pivot}评分高", "critique_different_genre": "和{pivot}类型不同",
        "critique_same_genre": "和{pivot}同类型但不一样",
        "critique_cheaper": "比{pivot}便宜", "critique_pricier": "比{pivot}贵",
        "the_list": "上一批", "it": "它", "excluded_genres": "不要{genres}",
    },
}
# English sentences other code and tests refer to
LIST_FOOTER = TEXTS[EN]["list_footer"]
UNAVAILABLE = TEXTS[EN]["unavailable"]
WHICH_ONE = TEXTS[EN]["which_one"]


def text(language: str | None, key: str, **values: object) -> str:
    """One reply in `language` (English when it is not one we speak)."""
    return TEXTS.get(language or EN, TEXTS[EN])[key].format(**values)


def catalog_words(vocabulary: dict, language: str | None) -> dict:
    """The catalog's words in `language`: item noun(s), genre word and genre names."""
    translated = (vocabulary.get("translations") or {}).get(language or EN, {})
    noun = translated.get("item_noun")
    return {"item_noun": noun or vocabulary["item_noun"],
            "item_nouns": noun or vocabulary["item_nouns"],  # Chinese nouns have no plural
            "genre_word": translated.get("genre_word") or vocabulary["genre_word"],
            "genres": translated.get("genres") or {}}


def genre_names(genres: list[str], words: dict) -> list[str]:
    return [words["genres"].get(genre, genre) for genre in genres]


def item_line(item: dict, position: int | None = None, language: str | None = EN,
              words: dict | None = None) -> str:
    """"2. Fargo (1996) — Crime, Drama, Thriller" ("2. Fargo (1996) — 犯罪、剧情、惊悚")."""
    prefix = f"{position}. " if position is not None else ""
    names = genre_names(list(item.get("genres") or []), words or {"genres": {}})
    genres = text(language, "list").join(names)
    note = ("。" if language == ZH else ". ") + item["note"] if item.get("note") else ""
    return f"{prefix}{item['label']}" + (f" — {genres}" if genres else "") + note


def title_and_year(item: dict) -> tuple[str, int | None]:
    """An item's title without its year, and the year: items from the recommender carry "label",
    the title as people write it with its year ("The Godfather (1972)"), and "year"."""
    label, year = item["label"], item.get("year")
    if year is not None and label.endswith(f" ({year})"):
        return label[:-len(f" ({year})")], int(year)
    return label, None  # no year, or one the label already shows some other way


def item_actions(item_id: str, language: str | None = EN,
                 count: int = len(ITEM_ACTIONS)) -> tuple[ReplyAction, ...]:
    """The first `count` of an item's buttons, in `language`."""
    return tuple(ReplyAction(text(language, intent.value), payload(intent, item_id), action_kind(intent))
                 for intent in ITEM_ACTIONS[:count])


def reply_item(item: dict, position: int | None, actions: int, language: str | None = EN,
               words: dict | None = None) -> ReplyItem:
    """An item of the recommender's as reply data: its fields, genre names in `language`."""
    title, year = title_and_year(item)
    genres = genre_names(list(item.get("genres") or []), words or {"genres": {}})
    return ReplyItem(str(item["id"]), title, year, tuple(genres), item.get("note") or "", position,
                     item_actions(str(item["id"]), language, actions))


def message(body: str, data: ReplyData) -> dict:
    """`utter_message` arguments: plain text (what `rasa shell` shows) and the same as data."""
    return {"text": body, "json_message": {CUSTOM_KEY: data.to_json()}}


def rich(kind: ReplyKind | str, header: str, items: list[dict], footer: str = "", numbered: bool = True,
         actions: int = len(ITEM_ACTIONS), language: str | None = EN, words: dict | None = None,
         fallback: bool = False) -> dict:
    """`utter_message` arguments for one message about `items` (a list, an item or a comparison);
    `fallback`: popular picks shown because no recommender answered."""
    positions = [position if numbered else None for position in range(1, len(items) + 1)]
    lines = [item_line(item, position, language, words) for position, item in zip(positions, items)]
    body = "\n".join([header, *lines] + ([footer] if footer else []))  # "\n\n" would split it in Rasa's REST
    found = tuple(reply_item(item, position, actions, language, words)
                  for position, item in zip(positions, items))
    return message(body, ReplyData(ReplyKind(kind), body, header, footer, language or EN, fallback, found))


def without_recommender(body: str, language: str | None = EN) -> dict:
    """`utter_message` arguments for a text said because no recommender answered, marked as a
    fallback in the reply data (what channels and benchmarks read, never the wording)."""
    return message(body, ReplyData(ReplyKind.TEXT, body, language=language or EN, fallback=True))


def remembered(items: list[dict]) -> list[dict]:
    """What the slots keep of a list: ids and titles (for "the second one")."""
    return [{"id": item["id"], "title": item["label"]} for item in items]


def describe_request(request: dict, words: dict, language: str | None = EN) -> str:
    """"comedy films from 1990–1999 like Fargo, not romance", and in Chinese
    "1990–1999年的喜剧电影（类似 Fargo），不要爱情"."""
    genres = genre_names(request.get("genres") or [], words)
    excluded = genre_names(request.get("exclude_genres") or [], words)
    said = critiques_said(request, language)
    if excluded:
        joined = "、".join(excluded) if language == ZH else " or ".join(excluded).lower()
        said.insert(0, text(language, "excluded_genres", genres=joined))
    first, last = request.get("year_from"), request.get("year_to")
    dated = first is not None or last is not None
    if language == ZH:
        years = (f"{first}年" if first == last else f"{first or '…'}–{last or '…'}年") if dated else ""
        described = (f"{years}的" if years else "") + "、".join(genres) + words["item_nouns"]
        like = "、".join(request.get("similar_to") or [])
        return described + (f"（类似 {like}）" if like else "") + "".join(f"，{part}" for part in said)
    parts = [" ".join(genres).lower()] if genres else []
    parts.append(words["item_nouns"])
    if dated:
        parts.append(f"from {first}" if first == last else f"from {first or '…'}–{last or '…'}")
    if request.get("similar_to"):
        parts.append("like " + " and ".join(request["similar_to"]))
    return " ".join(parts) + "".join(f", {part}" for part in said)


def critiques_said(request: dict, language: str | None = EN) -> list[str]:
    """"newer than Fargo (1996)", "less well known than the last list" for the critiques in force
    ("newer than it" when the request is already "like Fargo (1996)")."""
    def pivot(label: str) -> str:
        if not label:
            return text(language, "the_list")
        return text(language, "it") if label in (request.get("similar_to") or []) else label
    return [text(language, f"critique_{critique['kind']}", pivot=pivot(critique.get("label") or ""))
            for critique in request.get("critiques") or []]


def outside_catalog(side: str, vocabulary: dict, language: str | None = EN) -> str:
    """"My newest films are from 1998." for a year range the catalog does not reach."""
    year = vocabulary["last_year"] if side == "newest" else vocabulary["first_year"]
    words = catalog_words(vocabulary, language)
    return text(language, "outside_catalog", side=text(language, side), nouns=words["item_nouns"], year=year)


def rating_text(mean: float | None, count: int, language: str | None = EN) -> str:
    if not count or mean is None:
        return text(language, "not_rated")
    return text(language, "rated_one" if count == 1 else "rated", mean=mean, count=count)


def unknown_item_text(suggestions: list, language: str | None = EN) -> str:
    if suggestions:
        labels = text(language, "or").join(suggestion.label for suggestion in suggestions)
        return text(language, "did_you_mean", suggestions=labels)
    return text(language, "unknown_title")
