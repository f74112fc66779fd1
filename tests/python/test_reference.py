"""The PyTorch reference loop (`vibevoice-onnx reference`) on the tiny random checkpoint.

The loop is checked against independent re-derivations rather than against itself: the spec's position
timeline (architecture.md §3.5) rebuilt from the window/frame rule, the TTS conditions recomputed by one
whole-sequence pass over the interleaved inputs, latents recomputed with diffusers' scheduler, and the
streamed audio against whole-sequence decoding.
"""

from __future__ import annotations

import json
import wave
from pathlib import Path

import diffusers
import numpy as np
import pytest
import torch

from conftest import run_cli
from vibevoice_onnx import textprep
from vibevoice_onnx.cli import main as cli_main
from vibevoice_onnx.reference import (SPEECH_WINDOW, TEXT_WINDOW, NoiseSource, VoicePrompt, _sample_latent,
                                      generate, pcm16)
from vibevoice_onnx.scheduler import DpmSolverPlusPlus

TEXT = "Hello world, this is a test of the realtime reference loop."
THREADS = ("--threads", "1")  # the test machine is small and shared; one thread is much faster there


# ---------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def voice(tiny_checkpoint) -> Path:
    return tiny_checkpoint / "voices" / "synthetic.pt"


@pytest.fixture(scope="module")
def base_args(tiny_checkpoint, voice, real_tokenizer) -> list[str]:
    return ["reference", "--checkpoint", str(tiny_checkpoint), "--voice", str(voice),
            "--tokenizer", str(real_tokenizer), *THREADS]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, base_args) -> Path:
    """One default run (ODE, 5 steps, cfg 1.5, seed 0) with every output."""
    out = tmp_path_factory.mktemp("seeded")
    run_cli(*base_args, "--text", TEXT, "--seed", "0", "--out-dir", out, "--out-latents", out / "l.npy",
            "--out-wav", out / "w.wav", "--timings")
    return out


@pytest.fixture(scope="module")
def model(tiny_checkpoint):
    from vibevoice_onnx.modules import VibeVoice

    torch.set_num_threads(1)
    return VibeVoice.from_checkpoint(tiny_checkpoint)


@pytest.fixture(scope="module")
def preset(voice):
    from vibevoice_onnx.voices import load_pt_preset

    return load_pt_preset(voice)


def cli(*args) -> None:
    """Run the sub-command in-process (no interpreter + torch start-up per run; the real console entry point
    is exercised by the `seeded` fixture and the error tests)."""
    assert cli_main([str(a) for a in args]) == 0


def _some_frames(n: int, first: int = 24, count: int = 12) -> list[int]:
    """The first frames (the text windows and their hand-over) plus an even spread to the last frame: the
    tiny model's EOS can fire after hundreds of frames, and the slow checks need not visit them all."""
    return sorted(set(range(min(n, first))) | set(np.linspace(0, n - 1, count).astype(int).tolist()))


def _trace(d: Path) -> dict:
    return json.loads((d / "trace.json").read_text())


# ---------------------------------------------------------------------------------------------- text
def test_text_preparation(real_tokenizer):
    assert textprep.prepare("  It\u2019s \u201cfine\u201d.\n\n") == "It's \"fine\".\n"
    assert textprep.prepare("a\nb") == "a\nb\n"  # inner newlines kept
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(real_tokenizer))
    ids = textprep.encode(real_tokenizer, " Hello  world ")
    assert ids == tok.encode("Hello  world\n", add_special_tokens=False).ids
    assert tok.decode(ids) == "Hello  world\n"


# ---------------------------------------------------------------------------------------------- end to end
def test_end_to_end_outputs(seeded, tiny_checkpoint, real_tokenizer):
    tr = _trace(seeded)
    f = tr["frames"]
    hop = tr["hop_length"]
    assert tr["stop_reason"] == "eos"
    assert len(tr["windows"]) >= 2
    # speech continued after the text ran out (empty windows) until EOS
    assert f > tr["windows"][-1]["frame"] + SPEECH_WINDOW
    assert [t for w in tr["windows"] for t in w["token_ids"]] == textprep.encode(real_tokenizer, TEXT)

    lat = np.load(seeded / "latents.npy")
    audio = np.load(seeded / "audio.npy")
    assert lat.shape == (f, 64) and lat.dtype == np.float32
    assert np.array_equal(np.load(seeded / "l.npy"), lat)
    assert audio.shape == (f * hop,) and audio.dtype == np.float32 and np.all(np.isfinite(audio))
    h = json.loads((tiny_checkpoint / "config.json").read_text())["decoder_config"]["hidden_size"]
    assert np.load(seeded / "cond_pos.npy").shape == (f, h)
    assert np.load(seeded / "cond_neg.npy").shape == (f, h)
    eos = np.load(seeded / "eos_logits.npy")
    assert eos.shape == (f,) and eos[-1] > 0 and np.all(eos[:-1] <= 0)
    assert np.load(seeded / "noise.npy").shape == (f, 64)
    for wav_path in (seeded / "audio.wav", seeded / "w.wav"):
        with wave.open(str(wav_path)) as w:
            assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (1, 2, 24000, f * hop)
            pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2")
        assert np.array_equal(pcm, pcm16(audio))
    assert set(tr["timings_ms_per_frame"]) == {"text_lm", "tts_lm", "diffusion", "decoder", "connector"}
    assert tr["wall_s"] > 0


def test_position_timeline_matches_spec(seeded, preset, real_tokenizer):
    """Rebuild the §3.5 timeline (text LM / positive / negative positions) from the window rule alone."""
    tr = _trace(seeded)
    ids = textprep.encode(real_tokenizer, TEXT)
    l_lm = preset["lm"]["key_cache"][0].shape[2]
    l_tts = preset["tts_lm"]["key_cache"][0].shape[2]
    assert tr["prompt_lengths"] == {"lm": l_lm, "pos": l_tts, "neg": 1}
    lm, pos, neg, frame = l_lm, l_tts, 1, 0
    windows, frames = [], []
    w = 0
    while frame < tr["frames"]:
        win = ids[TEXT_WINDOW * w: TEXT_WINDOW * (w + 1)]
        if win:
            windows.append({"index": w, "token_ids": win, "frame": frame, "lm_start": lm, "pos_start": pos})
            lm, pos = lm + len(win), pos + len(win)
        for _ in range(SPEECH_WINDOW):
            if frame == tr["frames"]:
                break
            frames.append([pos, neg])
            pos, neg, frame = pos + 1, neg + 1, frame + 1
        w += 1
    assert tr["windows"] == windows
    assert tr["frame_positions"] == frames
    assert tr["final_lengths"] == {"lm": lm, "pos": pos, "neg": neg}
    # spot-check against the example shape of the spec's table: window 2 starts after 5 tokens + 6 frames
    assert windows[1]["pos_start"] == l_tts + TEXT_WINDOW + SPEECH_WINDOW
    assert frames[SPEECH_WINDOW] == [l_tts + 2 * TEXT_WINDOW + SPEECH_WINDOW, 1 + SPEECH_WINDOW]


@torch.no_grad()
def test_conditions_match_whole_sequence_pass(seeded, model, preset):
    """The incremental two-branch loop equals one causal pass over the interleaved inputs (§3.5 order)."""
    tr = _trace(seeded)
    lat = torch.from_numpy(np.load(seeded / "latents.npy"))
    cond_pos, cond_neg = np.load(seeded / "cond_pos.npy"), np.load(seeded / "cond_neg.npy")
    eos = np.load(seeded / "eos_logits.npy")
    prompt = VoicePrompt.from_preset(preset, model.cfg)
    tts = model.tts_lm
    types = tts.input_types

    ids = [t for w in tr["windows"] for t in w["token_ids"]]
    hl, _ = model.text_lm(torch.tensor([ids]), torch.arange(prompt.lm_len, prompt.lm_len + len(ids))[None],
                          prompt.lm_kv)
    speech = model.connector(lat) + types[0]  # [F, H]
    # positive branch: window w's tokens, then its 6 frames, in order; remember which row precedes frame f
    rows, before_frame, t_i = [], {}, 0
    for w_i, w in enumerate(tr["windows"]):
        rows += [hl[0, t_i + j] + types[1] for j in range(len(w["token_ids"]))]
        t_i += len(w["token_ids"])
        end = tr["windows"][w_i + 1]["frame"] if w_i + 1 < len(tr["windows"]) else tr["frames"]
        for f in range(w["frame"], end):
            before_frame[f] = len(rows) - 1
            rows.append(speech[f])
    x = torch.stack(rows)[None]
    hs, _ = tts.stack(x, torch.arange(prompt.tts_len, prompt.tts_len + x.shape[1])[None], prompt.tts_kv)
    want_pos = torch.stack([hs[0, before_frame[f]] for f in range(tr["frames"])]).numpy()
    np.testing.assert_allclose(cond_pos, want_pos, atol=1e-4, rtol=1e-4)
    after = [before_frame[f] + 1 for f in range(tr["frames"])]
    np.testing.assert_allclose(eos, tts.eos_logit(hs[0, after]).numpy(), atol=1e-4, rtol=1e-4)
    # negative branch: never sees text; first condition is the preset's negative hidden
    hn, _ = tts.stack(speech[None, :-1], torch.arange(1, tr["frames"])[None], prompt.neg_kv)
    want_neg = torch.cat([prompt.neg_hidden, hn[0]]).numpy()
    np.testing.assert_allclose(cond_neg, want_neg, atol=1e-4, rtol=1e-4)
    np.testing.assert_array_equal(cond_neg[0], preset["neg_tts_lm"]["last_hidden_state"][0, -1].float().numpy())


@torch.no_grad()
def test_latents_match_diffusers_sampling(seeded, model):
    """Each latent = DPM-Solver++ (diffusers) with CFG on v from the recorded noise and conditions."""
    lat = np.load(seeded / "latents.npy")
    noise = torch.from_numpy(np.load(seeded / "noise.npy"))
    cond = torch.from_numpy(np.stack([np.load(seeded / "cond_pos.npy"), np.load(seeded / "cond_neg.npy")], 1))
    sched = diffusers.DPMSolverMultistepScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2",
                                                  prediction_type="v_prediction")
    for f in _some_frames(lat.shape[0]):
        sched.set_timesteps(5)
        x = noise[f][None]
        for t in sched.timesteps:
            v = model.head(x.expand(2, -1), t.float().expand(2), cond[f])
            v = v[1:2] + 1.5 * (v[0:1] - v[1:2])
            x = sched.step(v, t, x).prev_sample
        np.testing.assert_allclose(lat[f], x[0].numpy(), atol=1e-5, rtol=1e-5)


def test_streamed_audio_equals_whole_sequence_decode(seeded, model):
    """Frame-by-frame streamed audio == whole-sequence decoding (on a prefix: the decoder is causal)."""
    n = 40
    lat = torch.from_numpy(np.load(seeded / "latents.npy"))[:n]
    with torch.no_grad():
        whole = model.decoder(lat.T[None])[0, 0].numpy()
    audio = np.load(seeded / "audio.npy")[: whole.shape[0]]
    assert whole.shape[0] == lat.shape[0] * model.cfg.hop_length
    np.testing.assert_allclose(audio, whole, atol=1e-5 * max(1.0, float(np.abs(whole).max())), rtol=0)


# ---------------------------------------------------------------------------------------------- noise
def test_noise_replay_and_seed_determinism(seeded, base_args, tmp_path):
    lat = np.load(seeded / "latents.npy")
    cli(*base_args, "--text", TEXT, "--noise", seeded / "noise.npy", "--out-dir", tmp_path / "replay")
    assert np.array_equal(np.load(tmp_path / "replay" / "latents.npy"), lat)
    assert np.array_equal(np.load(tmp_path / "replay" / "audio.npy"), np.load(seeded / "audio.npy"))
    assert np.array_equal(np.load(tmp_path / "replay" / "noise.npy"), np.load(seeded / "noise.npy"))
    assert _trace(tmp_path / "replay")["noise"] == "file"

    # noise is drawn frame by frame, so a --max-frames run is a prefix of the full run
    cli(*base_args, "--text", TEXT, "--seed", "0", "--max-frames", "20", "--out-latents", tmp_path / "again.npy")
    assert np.array_equal(np.load(tmp_path / "again.npy"), lat[:20])
    cli(*base_args, "--text", TEXT, "--seed", "1", "--max-frames", "3", "--out-latents", tmp_path / "s1.npy")
    assert not np.allclose(np.load(tmp_path / "s1.npy"), lat[:3])


def test_ignore_eos_runs_to_max_frames(model, preset, real_tokenizer, tmp_path):
    """With an EOS bias raised so EOS fires within a few frames, --ignore-eos still runs to --max-frames and
    the EOS run is a prefix of it."""
    ids = textprep.encode(real_tokenizer, TEXT)
    bias = model.tts_lm.eos_fc2.bias
    saved = bias.detach().clone()
    try:
        with torch.no_grad():
            bias += 4.0
        noise = np.random.default_rng(1).standard_normal((60, 64)).astype(np.float32)

        def run(**kw):
            return generate(model, VoicePrompt.from_preset(preset, model.cfg), ids, NoiseSource(5, "ode", 64, noise),
                            **kw)

        stopped = run()
        assert stopped.stop_reason == "eos" and len(stopped.latents) < 20
        n = len(stopped.latents) + 7
        bench = run(max_frames=n, ignore_eos=True)
        assert (len(bench.latents), bench.stop_reason, bench.eos_logits.shape) == (n, "max_frames", (n,))
        assert np.array_equal(bench.latents[: len(stopped.latents)], stopped.latents)
        assert np.any(bench.eos_logits[:-1] > 0)  # EOS did fire before the end and was ignored
        assert run(max_frames=n).stop_reason == "eos"  # EOS wins when it comes first
        if len(stopped.latents) > 1:
            m = len(stopped.latents) - 1
            capped = run(max_frames=m)
            assert (len(capped.latents), capped.stop_reason) == (m, "max_frames")
    finally:
        with torch.no_grad():
            bias.copy_(saved)


def test_sde_noise_layout_and_replay(base_args, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    cli(*base_args, "--text", TEXT, "--solver", "sde", "--steps", "3", "--seed", "5", "--max-frames", "8",
            "--out-dir", a)
    noise = np.load(a / "noise.npy")
    assert noise.shape == (8, 3, 64)
    assert (_trace(a)["frames"], _trace(a)["stop_reason"]) == (8, "max_frames")
    cli(*base_args, "--text", TEXT, "--solver", "sde", "--steps", "3", "--noise", a / "noise.npy",
            "--max-frames", "8", "--out-dir", b)
    assert np.array_equal(np.load(b / "latents.npy"), np.load(a / "latents.npy"))
    # the ODE solver reads only row 0 of a [F, N, Z] file; the SDE solver changes the result
    cli(*base_args, "--text", TEXT, "--steps", "3", "--noise", a / "noise.npy", "--max-frames", "8",
            "--out-dir", tmp_path / "ode3")
    np.save(tmp_path / "x0.npy", noise[:, 0])
    cli(*base_args, "--text", TEXT, "--steps", "3", "--noise", tmp_path / "x0.npy", "--max-frames", "8",
            "--out-latents", tmp_path / "ode_x0.npy")
    ode = np.load(tmp_path / "ode3" / "latents.npy")
    assert np.array_equal(ode, np.load(tmp_path / "ode_x0.npy"))
    assert not np.allclose(ode, np.load(a / "latents.npy"))


# ---------------------------------------------------------------------------------------------- CFG / caps
def _run(model, prompt, ids, frames, cfg_scale=1.5, **kw):
    noise = np.random.default_rng(7).standard_normal((frames, 64)).astype(np.float32)
    return generate(model, prompt, ids, NoiseSource(5, "ode", 64, noise), cfg_scale=cfg_scale,
                    max_frames=frames, ignore_eos=True, **kw)


def test_cfg_one_ignores_negative_branch(model, preset, real_tokenizer):
    ids = textprep.encode(real_tokenizer, TEXT)
    a = VoicePrompt.from_preset(preset, model.cfg)
    b = VoicePrompt.from_preset(preset, model.cfg)
    g = torch.Generator().manual_seed(3)
    b.neg_hidden = torch.randn(b.neg_hidden.shape, generator=g)
    b.neg_kv = [(torch.randn(k.shape, generator=g), torch.randn(v.shape, generator=g)) for k, v in b.neg_kv]
    ra, rb = _run(model, a, ids, 10, 1.0), _run(model, b, ids, 10, 1.0)
    np.testing.assert_allclose(ra.latents, rb.latents, atol=1e-5, rtol=0)
    assert not np.allclose(ra.cond_neg, rb.cond_neg)  # the branch did differ
    ra, rb = _run(model, a, ids, 10, 1.5), _run(model, b, ids, 10, 1.5)
    assert np.abs(ra.latents - rb.latents).max() > 1e-2  # and matters when guidance is on


@torch.no_grad()
def test_guidance_formula(model):
    """cfg 0 samples from the negative condition alone, cfg 1 from the positive alone (B=1 head calls)."""
    g = torch.Generator().manual_seed(4)
    h = model.cfg.hidden_size
    hp, hn, x = torch.randn(1, h, generator=g), torch.randn(1, h, generator=g), torch.randn(1, 64, generator=g)
    sampler = DpmSolverPlusPlus(5)
    for scale, c in ((0.0, hn), (1.0, hp)):
        want = sampler.sample(lambda xx, t: model.head(xx, torch.tensor([t]), c), x.clone())
        got = _sample_latent(model, sampler, x.clone(), None, hp, hn, scale)
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


def test_length_cap(model, preset, real_tokenizer):
    ids = textprep.encode(real_tokenizer, TEXT)
    prompt = VoicePrompt.from_preset(preset, model.cfg)
    l_tts = prompt.tts_len
    # window 2 (5 tokens) would exceed the cap after window 1 + 6 frames: not fed, stop
    r = _run(model, VoicePrompt.from_preset(preset, model.cfg), ids, 50,
             max_positions=l_tts + TEXT_WINDOW + SPEECH_WINDOW + 3)
    assert (len(r.latents), r.stop_reason, len(r.windows)) == (SPEECH_WINDOW, "length_cap", 1)
    assert r.final_lengths["pos"] == l_tts + TEXT_WINDOW + SPEECH_WINDOW
    # the cap inside a speech window: frame 4 is sampled and emitted but not fed
    r = _run(model, prompt, ids, 50, max_positions=l_tts + TEXT_WINDOW + 3)
    assert (len(r.latents), r.stop_reason) == (4, "length_cap")
    assert r.audio.shape[0] == 4 * model.cfg.hop_length
    assert np.all(np.isfinite(r.eos_logits[:3])) and np.isnan(r.eos_logits[3])
    assert r.frame_positions[3] == (None, None) and r.final_lengths["pos"] == l_tts + TEXT_WINDOW + 3


# ---------------------------------------------------------------------------------------------- errors
def test_invalid_input_via_console_entry_point(base_args):
    res = run_cli(*base_args, "--text", "   \n", check=False)
    assert res.returncode == 4, res.stderr
    assert "vibevoice-onnx reference: error: the text is empty" in res.stderr
    assert "Traceback" not in res.stderr


def test_invalid_inputs(base_args, tmp_path, tiny_checkpoint, capsys):
    def fails(args, code: int, needle: str):
        capsys.readouterr()
        assert cli_main([str(a) for a in args]) == code
        err = capsys.readouterr().err
        assert needle in err, err

    voice = str(tiny_checkpoint / "voices" / "synthetic.pt")
    fails([*base_args, "--text", ""], 4, "empty")
    fails([*[str(tmp_path / "nope.pt") if a == voice else a for a in base_args], "--text", TEXT], 3,
          "voice file not found")
    (tmp_path / "garbage.pt").write_bytes(b"not a torch zip")
    fails([*[str(tmp_path / "garbage.pt") if a == voice else a for a in base_args], "--text", TEXT], 3,
          "cannot use voice")
    fails([*base_args, "--text-file", tmp_path / "none.txt"], 4, "cannot read --text-file")
    fails([*[str(tmp_path) if a == str(tiny_checkpoint) else a for a in base_args], "--text", TEXT], 3,
          "cannot load checkpoint")
    fails([*base_args, "--text", TEXT, "--ignore-eos"], 2, "--max-frames")
    fails([*base_args, "--text", TEXT, "--steps", "0"], 2, "--steps")
    np.save(tmp_path / "short.npy", np.zeros((3, 64), np.float32))
    # --ignore-eos: the run needs 10 frames whatever the random EOS head decides
    long_run = ["--ignore-eos", "--max-frames", "10"]
    fails([*base_args, "--text", TEXT, *long_run, "--noise", tmp_path / "short.npy"], 4, "has 3 frames")
    np.save(tmp_path / "bad.npy", np.zeros((3, 63), np.float32))
    fails([*base_args, "--text", TEXT, "--noise", tmp_path / "bad.npy"], 4, "shape")
    fails([*base_args, "--text", TEXT, *long_run, "--solver", "sde", "--noise", tmp_path / "short.npy"], 4,
          "SDE")
