import type { ImageResponse } from '@mc-vision/core/schemas';
import { useState, type ChangeEvent, type DragEvent } from 'react';
import type { ApiClient } from '../api.ts';
import { formatBytes } from '../format.ts';
import { acceptedImageTypes, checkImageFile } from '../image-file.ts';
import { useAction } from '../use-action.ts';
import { ErrorMessage } from './ErrorMessage.tsx';

export interface UploadedImage {
  info: ImageResponse;
  name: string;
  previewUrl: string;
}

interface Props {
  client: ApiClient;
  disabled: boolean;
  image: UploadedImage | null;
  onUploaded: (image: UploadedImage) => void;
  onError: (error: unknown) => void;
}

export function UploadPanel({ client, disabled, image, onUploaded, onError }: Props) {
  const { busy, error, setError, run } = useAction(onError);
  const [dragging, setDragging] = useState(false);

  async function accept(file: File | undefined) {
    if (!file || busy || disabled) return;
    const refusal = checkImageFile(file);
    if (refusal) {
      setError(new Error(refusal));
      return;
    }
    await run(async () => {
      const info = await client.uploadImage(file);
      onUploaded({ info, name: file.name, previewUrl: URL.createObjectURL(file) });
    });
  }

  function pick(event: ChangeEvent<HTMLInputElement>) {
    void accept(event.target.files?.[0]);
    event.target.value = ''; // picking the same file again should upload again
  }

  function drop(event: DragEvent) {
    event.preventDefault();
    setDragging(false);
    void accept(event.dataTransfer.files[0]);
  }

  return (
    <section aria-labelledby="upload-heading" className="panel">
      <h2 id="upload-heading">1. Image</h2>
      <div
        className={`dropzone${dragging ? ' dragging' : ''}`}
        onDragOver={(event) => {
          event.preventDefault();
          setDragging(true);
        }}
        onDragLeave={() => setDragging(false)}
        onDrop={drop}
      >
        <label htmlFor="image-file">Choose or drop a JPEG, PNG or WebP image (up to 4 MB)</label>
        <input
          id="image-file"
          type="file"
          accept={acceptedImageTypes}
          disabled={busy || disabled}
          onChange={pick}
        />
        {busy && <p role="status">Uploading…</p>}
      </div>
      <ErrorMessage error={error} action="Upload" />
      {image && (
        <figure className="uploaded">
          <img src={image.previewUrl} alt={`Preview of ${image.name}`} />
          <figcaption>
            <dl aria-label="Uploaded image">
              <dt>Key</dt>
              <dd>
                <code>{image.info.key}</code>
              </dd>
              <dt>Dimensions</dt>
              <dd>
                {image.info.width} × {image.info.height}
              </dd>
              <dt>Size</dt>
              <dd>
                {formatBytes(image.info.bytes)} ({image.info.contentType})
              </dd>
              <dt>SHA-256</dt>
              <dd>
                <code title={image.info.sha256}>{image.info.sha256.slice(0, 16)}…</code>
              </dd>
            </dl>
          </figcaption>
        </figure>
      )}
    </section>
  );
}
