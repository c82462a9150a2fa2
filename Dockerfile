FROM python:3.11-slim
WORKDIR /app
COPY pyproject.toml constraints.txt README.md ./
COPY streams ./streams
COPY agents ./agents
COPY schemas ./schemas
RUN pip install --no-cache-dir -c constraints.txt .
ENV STREAMS_DATA_DIR=/data STREAMS_WEB_HOST=0.0.0.0
EXPOSE 6066
CMD ["streams", "worker"]
