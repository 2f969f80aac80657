"""A fake camera for browser tests: a badge QR as a looping .y4m video, and the Chromium flags that feed it."""

from PIL import Image, ImageDraw

GREY = (118, 124, 130)


def qr_image(text, box=10):
    """TEXT as a black-on-white QR code with its quiet zone (error correction M, like the badges)."""
    import qrcode

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=box, border=4)
    code.add_data(text)
    code.make(fit=True)
    return code.make_image(fill_color="black", back_color="white").convert("RGB")


def badge_frame(text, size=(640, 480), fill=0.6):
    """One camera frame: a white badge card with the QR of TEXT, FILL of the frame high, on a grey scene."""
    width, height = size
    frame = Image.new("RGB", size, GREY)
    if text is None:
        return frame
    qr = qr_image(text)
    side = int(height * fill)
    pad = side // 10
    card = Image.new("RGB", (side + 2 * pad, side + 2 * pad), (250, 250, 248))
    card.paste(qr.resize((side, side), Image.NEAREST), (pad, pad))
    ImageDraw.Draw(card).rectangle([0, 0, card.width - 1, card.height - 1], outline=(170, 170, 170), width=3)
    frame.paste(card, ((width - card.width) // 2, (height - card.height) // 2))
    return frame


def i420(frame):
    """An RGB frame as I420 bytes in studio range (what Chromium's y4m reader assumes)."""
    y, cb, cr = frame.convert("YCbCr").split()
    y = y.point(lambda v: 16 + (v * 219 + 127) // 255)
    cb = cb.point(lambda v: 128 + ((v - 128) * 224) // 255)
    cr = cr.point(lambda v: 128 + ((v - 128) * 224) // 255)
    half = ((frame.width + 1) // 2, (frame.height + 1) // 2)
    return y.tobytes() + cb.resize(half, Image.BOX).tobytes() + cr.resize(half, Image.BOX).tobytes()


def write_y4m(path, text=None, *, size=(640, 480), fps=15, seconds=1.0, blank_seconds=0.0, fill=0.6):
    """Write a looping fake-camera video: BLANK_SECONDS of empty scene, then SECONDS of the badge for TEXT.

    Chromium starts every capture at frame 0, so the badge appears BLANK_SECONDS after the camera
    opens. TEXT None gives an empty scene only. Width and height must be even.
    """
    width, height = size
    if width % 2 or height % 2:
        raise ValueError("y4m frames need an even width and height")
    blank = i420(badge_frame(None, size))
    shown = i420(badge_frame(text, size, fill)) if text is not None else blank
    with open(path, "wb") as out:
        out.write(b"YUV4MPEG2 W%d H%d F%d:1 Ip A1:1 C420jpeg\n" % (width, height, fps))
        for _ in range(round(blank_seconds * fps)):
            out.write(b"FRAME\n" + blank)
        for _ in range(max(1, round(seconds * fps))):
            out.write(b"FRAME\n" + shown)
    return path


def camera_args(video_path):
    """Chromium flags: accept the camera prompt, use a fake camera fed from VIDEO_PATH, allow beeps."""
    return [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video_path}",
        # Headless has no user gesture before the first scan; the beep is part of what we check.
        "--autoplay-policy=no-user-gesture-required",
    ]


def pair(page, base_url, secret):
    """Pair PAGE's browser as a station through its one-time link, as a person would; lands on /kiosk."""
    page.goto(f"{base_url}/pair/{secret}")
    page.click("button[type=submit].primary")
    page.wait_for_url(f"{base_url}/kiosk")
    page.wait_for_selector("#kiosk[data-ready='1']", state="attached")
