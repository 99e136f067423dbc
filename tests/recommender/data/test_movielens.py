"""The MovieLens 100K loader reads recbole's files into the generic catalog model."""

import random

import pytest

from recommender.data import movielens as ml100k


def test_counts_match_the_published_dataset(movielens):
    assert len(movielens.catalog) == 1682
    assert len(movielens.users) == 943
    assert len(movielens.interactions) == 100_000
    assert set(movielens.interactions.ratings.tolist()) == {1.0, 2.0, 3.0, 4.0, 5.0}


def test_items_have_title_year_and_genres(movielens):
    toy_story = movielens.catalog.get("1")
    assert (toy_story.title, toy_story.year) == ("Toy Story", 1995)
    assert toy_story.values("genre") == ("Animation", "Children's", "Comedy")
    assert movielens.catalog.get("127").title == "Godfather, The"  # the catalog form, for matching
    assert movielens.catalog.get("127").label == "The Godfather (1972)"  # as people write it
    assert movielens.catalog.get("267").year is None  # "unknown" in the source
    assert "unknown" not in movielens.catalog.genres and len(movielens.catalog.genres) == 18


def test_users_have_age_band_gender_and_occupation(movielens):
    first = movielens.users[0]
    assert first.id == "1"
    assert first.features == {"age_band": "18-24", "gender": "M", "occupation": "technician"}


def test_age_bands():
    assert [ml100k.age_band(a) for a in (7, 18, 24, 25, 49, 50, 56, 73)] == [
        "under 18", "18-24", "18-24", "25-34", "45-49", "50-55", "56+", "56+"]


def test_missing_package_gives_install_instructions(tmp_path, monkeypatch):
    monkeypatch.setattr(ml100k, "RECBOLE_TARGET", tmp_path)
    monkeypatch.setattr(ml100k.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(FileNotFoundError, match="recbole==1.2.1"):
        ml100k.data_dir()


def test_fingerprint_is_stable_and_data_sensitive(movielens):
    assert movielens.fingerprint() == movielens.fingerprint()
    again = ml100k.load()
    assert again.fingerprint() == movielens.fingerprint()
    again.interactions.ratings[0] += 1
    assert again.fingerprint() != movielens.fingerprint()


def test_recbole_knowledge_graph_link_fails_the_consistency_check(movielens):
    """recbole 1.2.1 links ML-100K items with MovieLens-1M ids: its films tagged
    with Freebase's animation genre are not animated films here."""
    directory = ml100k.data_dir()
    link = dict(ml100k._rows(directory / "ml-100k.link"))
    animated_entities = {h for h, r, t in ml100k._rows(directory / "ml-100k.kg")
                         if r == "film.film.genre" and t == "m.0hcr"}
    tagged = [i for i, e in link.items() if e in animated_entities]
    assert len(tagged) >= 20
    really_animated = [i for i in tagged if "Animation" in movielens.catalog.get(i).values("genre")]
    assert len(really_animated) <= len(tagged) // 5
    assert not any(item.values("actor") for item in movielens.catalog.items)


GENRES = ("Action", "Comedy", "Drama", "Horror", "Romance", "Western")


def _write_recbole_folder(folder, consistent: bool):
    """A small ml-100k-shaped folder: 120 films, 6 genres, a knowledge graph."""
    folder.mkdir()
    items, links, kg = ["item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq"], \
        ["item_id:token\tentity_id:token"], ["head_id:token\trelation_id:token\ttail_id:token"]
    for n in range(120):
        genre = GENRES[n % 6]
        items.append(f"{n + 1}\tFilm {n + 1}\t{1950 + n % 50}\t{genre}")
        entity = f"m.film{n + 1}"
        links.append(f"{n + 1}\t{entity}")
        kg_genre = GENRES[n % 6] if consistent else random.Random(n).choice(GENRES)
        kg.append(f"{entity}\tfilm.film.genre\tm.genre{kg_genre}")
        kg.append(f"{entity}\tfilm.film.actor\tm.actor{n % 10}")
        kg.append(f"{entity}\tfilm.film.directed_by\tm.director{n % 4}")
    kg.append("m.film1\tfilm.film.sequel\tm.offcatalog")  # film 1 -> (not in catalog) -> film 2
    kg.append("m.offcatalog\tfilm.film.sequel\tm.film2")
    (folder / "ml-100k.item").write_text("\n".join(items) + "\n")
    (folder / "ml-100k.link").write_text("\n".join(links) + "\n")
    (folder / "ml-100k.kg").write_text("\n".join(kg) + "\n")
    (folder / "ml-100k.user").write_text(
        "user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n"
        "1\t30\tF\twriter\t00000\n")
    (folder / "ml-100k.inter").write_text("user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
                                          "1\t1\t5\t0\n1\t2\t3\t1\n")


def test_a_consistent_knowledge_graph_is_attached(tmp_path):
    _write_recbole_folder(tmp_path / "good", consistent=True)
    dataset = ml100k.load(tmp_path / "good")
    first = dataset.catalog.get("1")
    assert first.values("actor") == ("m.actor0",) and first.values("director") == ("m.director0",)
    assert first.values("series") == dataset.catalog.get("2").values("series") != ()
    assert dataset.catalog.get("3").values("series") == ()
    assert dataset.users[0].features == {"age_band": "25-34", "gender": "F", "occupation": "writer"}


def test_an_inconsistent_knowledge_graph_is_left_out(tmp_path):
    _write_recbole_folder(tmp_path / "bad", consistent=False)
    dataset = ml100k.load(tmp_path / "bad")
    assert all(set(item.features) == {"genre"} for item in dataset.catalog.items)
