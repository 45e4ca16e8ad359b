using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

using ZeroPg.Storage.Backup;
using ZeroPg.Storage.Backup.Stores;

namespace ZeroPg.Backups.S3;

/// <summary>
/// An S3-compatible bucket (AWS, R2, GCS interop, MinIO, s3rver) through AWSSDK.S3. Credentials and
/// region come from the standard AWS environment variables and profile unless given. A PUT is atomic
/// in S3, and a multipart upload is visible only once completed, so no half-written object is ever
/// listed. The lease is created with If-None-Match: * where the server honours it.
/// </summary>
internal sealed class S3BackupStore : IBackupStore
{
    private const int PartSize = 8 * 1024 * 1024;
    private readonly AmazonS3Client _client;
    private readonly string _bucket;
    private readonly string _prefix;
    private readonly string _where;

    public S3BackupStore(string bucket, string prefix, string location, BackupOptions options)
    {
        _bucket = bucket;
        _prefix = prefix.Length == 0 ? "" : prefix.TrimEnd('/') + "/";
        Location = location;
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.S3ForcePathStyle,
            // Flexible checksums (aws-chunked trailers) are not understood by many S3-compatible servers.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            Timeout = TimeSpan.FromSeconds(60),
            MaxErrorRetry = 2,
        };
        var endpoint = options.S3Endpoint
            ?? Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL_S3")
            ?? Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL");
        var region = options.S3Region
            ?? Environment.GetEnvironmentVariable("AWS_REGION")
            ?? Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION");
        _where = !string.IsNullOrEmpty(endpoint) ? endpoint : region is not null ? $"AWS region {region}" : "AWS (the profile's region)";
        if (!string.IsNullOrEmpty(endpoint))
        {
            config.ServiceURL = endpoint;
            config.AuthenticationRegion = region ?? "us-east-1";
        }
        else if (region is not null)
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(region);
        }
        else if (!File.Exists(Environment.GetEnvironmentVariable("AWS_CONFIG_FILE") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".aws", "config")))
        {
            throw new ArgumentException($"No S3 region for {location}: set AWS_REGION (or --s3-region), or give --s3-endpoint for an S3-compatible store.");
        }
        _client = options.S3AccessKeyId is { Length: > 0 } id
            ? new AmazonS3Client(new BasicAWSCredentials(id, options.S3SecretAccessKey ?? ""), config)
            : new AmazonS3Client(config);
    }

    public string Location { get; }

    private string Key(string key) => _prefix + key;

    /// <summary>
    /// NoSuchBucket (a wrong name, a deleted bucket, the wrong endpoint or region) as a message for the
    /// user. It is a 404 like a missing key, so it must never be taken for "no such object".
    /// </summary>
    private static bool IsNoSuchBucket(AmazonS3Exception error) => error.ErrorCode == "NoSuchBucket";

    private BackupStoreException NoSuchBucket(AmazonS3Exception error)
        => new($"The bucket '{_bucket}' of {Location} does not exist at {_where} (NoSuchBucket). Create it (e.g. `aws s3 mb s3://{_bucket}`), "
            + "or check the bucket name, --s3-endpoint and --s3-region; a bucket deleted while the server runs is an error until it exists again.", error);

    public async Task PutAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        using var body = new MemoryStream(data.ToArray(), writable: false);
        try
        {
            await _client.PutObjectAsync(new PutObjectRequest { BucketName = _bucket, Key = Key(key), InputStream = body, UseChunkEncoding = false, AutoCloseStream = false }, cancellationToken);
        }
        catch (AmazonS3Exception error) when (IsNoSuchBucket(error))
        {
            throw NoSuchBucket(error);
        }
    }

    public async Task<bool> TryCreateAsync(string key, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        using var body = new MemoryStream(data.ToArray(), writable: false);
        try
        {
            await _client.PutObjectAsync(new PutObjectRequest { BucketName = _bucket, Key = Key(key), InputStream = body, UseChunkEncoding = false, AutoCloseStream = false, IfNoneMatch = "*" }, cancellationToken);
            return true;
        }
        catch (AmazonS3Exception error) when (IsNoSuchBucket(error))
        {
            throw NoSuchBucket(error);
        }
        catch (AmazonS3Exception error) when (error.StatusCode is HttpStatusCode.PreconditionFailed or HttpStatusCode.Conflict)
        {
            return false;
        }
    }

    public async Task<byte[]?> GetAsync(string key, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                using var response = await _client.GetObjectAsync(new GetObjectRequest { BucketName = _bucket, Key = Key(key) }, cancellationToken);
                using var buffer = new MemoryStream();
                await response.ResponseStream.CopyToAsync(buffer, cancellationToken);
                return buffer.ToArray();
            }
            catch (AmazonS3Exception error) when (IsNoSuchBucket(error))
            {
                throw NoSuchBucket(error);
            }
            catch (AmazonS3Exception error) when (error.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }
            catch (AmazonClientException error) when (IsChecksumMismatch(error))
            {
                // Damaged on the way is read again; damaged in the store stays so, and is named.
                if (attempt == ChecksumAttempts)
                    throw Damaged(key, attempt, error);
            }
        }
    }

    private const int ChecksumAttempts = 3;

    /// <summary>The SDK read a body that does not match the checksum the store sent with it (the ETag's MD5, or a flexible checksum).</summary>
    private static bool IsChecksumMismatch(AmazonClientException error)
        => error.Message.Contains("Expected hash not equal to calculated hash", StringComparison.Ordinal);

    private BackupStoreException Damaged(string key, int reads, Exception error)
        => new($"The object '{key}' of {Location} is damaged: its body did not match the checksum the store keeps with it, in {reads} read{(reads == 1 ? "" : "s")} "
            + "(a fault in the store, or something that wrote into its files).", error);

    public async Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _client.GetObjectAsync(new GetObjectRequest { BucketName = _bucket, Key = Key(key) }, cancellationToken);
            return new ResponseStream(response, error => Damaged(key, 1, error)); // a stream half consumed cannot be read again
        }
        catch (AmazonS3Exception error) when (IsNoSuchBucket(error))
        {
            throw NoSuchBucket(error);
        }
    }

    public Task<IBackupUpload> BeginUploadAsync(string key, CancellationToken cancellationToken)
        => Task.FromResult<IBackupUpload>(new MultipartUpload(this, Key(key)));

    public async Task<IReadOnlyList<StoredObject>> ListAsync(string prefix, CancellationToken cancellationToken)
    {
        var objects = new List<StoredObject>();
        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = Key(prefix) };
        while (true)
        {
            ListObjectsV2Response response;
            try
            {
                response = await _client.ListObjectsV2Async(request, cancellationToken);
            }
            catch (AmazonS3Exception error) when (IsNoSuchBucket(error))
            {
                throw NoSuchBucket(error);
            }
            foreach (var entry in response.S3Objects ?? [])
                objects.Add(new StoredObject(entry.Key[_prefix.Length..], entry.Size ?? 0, entry.LastModified ?? DateTime.UtcNow));
            if (response.IsTruncated != true)
                break;
            request.ContinuationToken = response.NextContinuationToken;
        }
        objects.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        return objects;
    }

    public async Task DeleteAsync(IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
    {
        foreach (var chunk in keys.Chunk(1000))
        {
            try
            {
                await _client.DeleteObjectsAsync(new DeleteObjectsRequest
                {
                    BucketName = _bucket,
                    Objects = chunk.Select(k => new KeyVersion { Key = Key(k) }).ToList(),
                    Quiet = true,
                }, cancellationToken);
            }
            catch (AmazonS3Exception error) when (IsNoSuchBucket(error))
            {
                throw NoSuchBucket(error);
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Collects written bytes in parts; a small object is sent with one PUT at completion, a large one
    /// as a multipart upload whose parts go out as they fill (memory stays at one part).
    /// </summary>
    private sealed class MultipartUpload(S3BackupStore store, string key) : Stream, IBackupUpload
    {
        private readonly List<PartETag> _parts = [];
        private MemoryStream _buffer = new();
        private string? _uploadId;
        private bool _completed;

        public Stream Stream => this;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
        {
            while (data.Length > 0)
            {
                var take = (int)Math.Min(data.Length, PartSize - _buffer.Length);
                _buffer.Write(data.Span[..take]);
                data = data[take..];
                if (_buffer.Length == PartSize)
                    await SendPartAsync(cancellationToken);
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private async Task SendPartAsync(CancellationToken cancellationToken)
        {
            try
            {
                await SendPartCoreAsync(cancellationToken);
            }
            catch (AmazonS3Exception error) when (IsNoSuchBucket(error))
            {
                throw store.NoSuchBucket(error);
            }
        }

        private async Task SendPartCoreAsync(CancellationToken cancellationToken)
        {
            _uploadId ??= (await store._client.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = store._bucket, Key = key }, cancellationToken)).UploadId;
            _buffer.Position = 0;
            var number = _parts.Count + 1;
            var response = await store._client.UploadPartAsync(new UploadPartRequest
            {
                BucketName = store._bucket, Key = key, UploadId = _uploadId, PartNumber = number,
                InputStream = _buffer, PartSize = _buffer.Length, UseChunkEncoding = false,
            }, cancellationToken);
            _parts.Add(new PartETag(number, response.ETag));
            _buffer = new MemoryStream();
        }

        public async Task CompleteAsync(CancellationToken cancellationToken)
        {
            try
            {
                await CompleteCoreAsync(cancellationToken);
            }
            catch (AmazonS3Exception error) when (IsNoSuchBucket(error))
            {
                throw store.NoSuchBucket(error);
            }
        }

        private async Task CompleteCoreAsync(CancellationToken cancellationToken)
        {
            if (_uploadId is null)
            {
                _buffer.Position = 0;
                await store._client.PutObjectAsync(new PutObjectRequest { BucketName = store._bucket, Key = key, InputStream = _buffer, UseChunkEncoding = false, AutoCloseStream = false }, cancellationToken);
            }
            else
            {
                if (_buffer.Length > 0)
                    await SendPartAsync(cancellationToken);
                await store._client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
                {
                    BucketName = store._bucket, Key = key, UploadId = _uploadId, PartETags = _parts,
                }, cancellationToken);
            }
            _completed = true;
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override async ValueTask DisposeAsync()
        {
            if (!_completed && _uploadId is not null)
            {
                try
                {
                    await store._client.AbortMultipartUploadAsync(new AbortMultipartUploadRequest { BucketName = store._bucket, Key = key, UploadId = _uploadId });
                }
                catch (Exception)
                {
                    // The bucket is unreachable: an incomplete multipart upload is never listed; a
                    // lifecycle rule (or the store) removes its parts.
                }
            }
            _completed = true;
            await base.DisposeAsync();
        }
    }

    /// <summary>The body of a GetObject response, disposing the response with it; a body that fails its checksum is named damaged.</summary>
    private sealed class ResponseStream(GetObjectResponse response, Func<Exception, BackupStoreException> damaged) : Stream
    {
        private readonly Stream _inner = response.ResponseStream;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count)
        {
            try
            {
                return _inner.Read(buffer, offset, count);
            }
            catch (AmazonClientException error) when (IsChecksumMismatch(error))
            {
                throw damaged(error);
            }
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return await _inner.ReadAsync(buffer, cancellationToken);
            }
            catch (AmazonClientException error) when (IsChecksumMismatch(error))
            {
                throw damaged(error);
            }
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
            => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
        public override void Flush()
        {
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
                response.Dispose();
            base.Dispose(disposing);
        }
    }
}
