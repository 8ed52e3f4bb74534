package dev.streamtune.ingest;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A bearer token on write endpoints, and the upload and record size limits with their 413. */
@QuarkusTest
@TestProfile(LimitsAndAuthIT.Limits.class)
class LimitsAndAuthIT {

    public static class Limits implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("ingest.auth.token", "s3cret", "ingest.max-upload-size", "2K");
        }
    }

    @Test
    void writesNeedTheTokenAndReadsDoNot() {
        Response missing = given().contentType("application/x-ndjson")
                .body("{\"text\":\"x\"}".getBytes())
                .post("/datasets/auth/records");
        assertThat(missing.statusCode()).isEqualTo(401);
        assertThat(missing.header("WWW-Authenticate")).isEqualTo("Bearer");
        assertThat(missing.contentType()).isEqualTo("application/problem+json");
        assertThat(missing.jsonPath().getString("type")).isEqualTo("urn:streamtune:problem:unauthorized");
        assertThat(missing.jsonPath().getString("title")).isEqualTo("Unauthorized");
        assertThat(missing.jsonPath().getInt("status")).isEqualTo(401);
        assertThat(missing.jsonPath().getString("detail")).contains("Authorization: Bearer");

        given().header("Authorization", "Bearer wrong")
                .contentType("application/x-ndjson")
                .body("{\"text\":\"x\"}".getBytes())
                .post("/datasets/auth/records")
                .then()
                .statusCode(401);
        given().header("Authorization", "Bearer s3cret")
                .contentType("application/x-ndjson")
                .body(("{\"text\":\"with the token " + System.nanoTime() + "\"}").getBytes())
                .post("/datasets/auth/records")
                .then()
                .statusCode(200);
        given().get("/datasets").then().statusCode(200);
        given().get("/q/health/ready").then().statusCode(200);
    }

    @Test
    void anUploadOverTheLimitIsRefusedWith413() {
        String body = "{\"text\":\"" + "y".repeat(4000) + "\"}";

        Response response = given().header("Authorization", "Bearer s3cret")
                .contentType("application/x-ndjson")
                .body(body.getBytes())
                .post("/datasets/limits/records");

        assertThat(response.statusCode()).isEqualTo(413);
        assertThat(response.contentType()).isEqualTo("application/problem+json");
        assertThat(response.jsonPath().getString("title")).isEqualTo("Content too large");
        assertThat(response.jsonPath().getInt("status")).isEqualTo(413);
        assertThat(response.jsonPath().getString("detail"))
                .isEqualTo("the upload is " + body.length()
                        + " bytes, larger than the limit of 2048 bytes (ingest.max-upload-size)");
    }
}
