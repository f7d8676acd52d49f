# Softmax Studio as a container: docker build -t softmax-studio . && docker run -p 8501:8501 softmax-studio
# Hosted mode by default (runs kept per browser session); see docs/deploy.md for the settings.
FROM python:3.11-slim-bookworm

# The dataset from Debian, so the container never needs to download it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends dataset-fashion-mnist \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home app
WORKDIR /app

# CPU-only torch first, from PyTorch's index (~200 MB instead of PyPI's multi-GB CUDA build),
# at the versions requirements.txt pins; those pins (torch==X) are then already met by X+cpu.
COPY requirements.txt .
RUN pip install --no-cache-dir --index-url https://download.pytorch.org/whl/cpu \
        $(sed -n 's/^\(torch\|torchvision\)==\([^ ;#]*\).*/\1==\2+cpu/p' requirements.txt) \
 && pip install --no-cache-dir -r requirements.txt

COPY --chown=app . .
USER app
# Check and cache the dataset now rather than on the first visit.
RUN python -m model data

ENV SOFTMAX_STUDIO_HOSTED=1
# glibc gives concurrent threads their own malloc arenas (up to 8 per CPU), and Streamlit runs
# every script run and training in a new thread: uncapped, RSS grew ~30 MB per session; capped
# at 2 it stays flat (bench/memory.py --malloc-arenas 2). It must be set before Python starts.
ENV MALLOC_ARENA_MAX=2
EXPOSE 8501
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://localhost:8501/_stcore/health', timeout=4)"
CMD ["streamlit", "run", "app.py", "--server.headless=true", "--server.address=0.0.0.0", "--server.port=8501"]
