"""The drop-in's own options are checked in the constructor: nothing drawn, claimed or sent when wrong."""
from __future__ import annotations


import pytest

from activitysmith_jupyter.errors import PayloadError
from activitysmith_jupyter.tqdm import tqdm


@pytest.mark.parametrize(
    ("options", "error", "named"),
    [(dict(policy="fast"), TypeError, "policy='fast'"),
     (dict(title=123), TypeError, "title=123"),
     (dict(channels=[1, 2]), PayloadError, "channels[0]: must be a string"),
     (dict(channels=123), PayloadError, "channels: must be a list"),
     (dict(color="pink"), PayloadError, "color: must be one of"),
     (dict(notify="sometimes"), ValueError, "notify='sometimes'"),
     (dict(stream_key="bad key"), PayloadError, "stream_key: may only contain letters, digits, '_' and '-'")],
    ids=["policy-str", "title-int", "channels-ints", "channels-int", "color", "notify", "stream-key"],
)
def test_a_bad_option_raises_naming_it_and_the_next_bar_with_that_desc_works(dispatcher, sim, null, options, error,
                                                                             named) -> None:
    with pytest.raises(error) as raised:
        tqdm(range(3), desc="Resize images", dispatcher=dispatcher, file=null, **options)
    assert named in str(raised.value)
    assert dispatcher.flush(5) and sim.requests == []  # nothing sent
    bar = tqdm(range(3), desc="Resize images", dispatcher=dispatcher, file=null)
    assert bar.stream_key == "Resize-images"  # the key was not left claimed
    for _ in bar:
        pass
    assert dispatcher.flush(5)
    [activity] = [a.view() for a in sim.activities.values()]
    assert activity["state"] == "ended" and activity["content_state"]["subtitle"].startswith("Done · 3/3")
