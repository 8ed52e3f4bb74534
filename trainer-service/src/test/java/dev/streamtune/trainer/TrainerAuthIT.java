package dev.streamtune.trainer;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.streamtune.localstack.testing.KafkaTestResource;
import dev.streamtune.localstack.testing.PostgresTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.hamcrest.Matchers;
import org.junit.jupiter.api.Test;

/**
 * With trainer.auth.token and trainer.auth.read-token set, writes need the write token, reads either token; health
 * and metrics stay open. (Without a read token reads are open: AccessTokensTest, and every other test here.)
 */
@QuarkusTest
@TestProfile(TrainerAuthIT.WithToken.class)
@QuarkusTestResource(KafkaTestResource.class)
@QuarkusTestResource(PostgresTestResource.class)
class TrainerAuthIT {

    public static class WithToken implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("trainer.auth.token", "s3cret", "trainer.auth.read-token", "r3ad");
        }
    }

    private static final byte[] UNUSABLE = "training_config:\n  learning_rate: -1\n".getBytes(StandardCharsets.UTF_8);

    @Test
    void writesNeedTheWriteTokenAndReadsEitherToken() {
        given().contentType("application/yaml")
                .body(UNUSABLE)
                .post("/recipes")
                .then()
                .statusCode(401)
                .header("WWW-Authenticate", "Bearer")
                .contentType("application/problem+json")
                .body("type", equalTo("urn:streamtune:problem:unauthorized"))
                .body("title", equalTo("Unauthorized"))
                .body("status", equalTo(401))
                .body("detail", containsString("trainer.auth.token"));
        given().header("Authorization", "Bearer wrong")
                .contentType("application/yaml")
                .body(UNUSABLE)
                .post("/recipes")
                .then()
                .statusCode(401);
        // with the token the request reaches the recipe checks
        given().header("Authorization", "Bearer s3cret")
                .contentType("application/yaml")
                .body(UNUSABLE)
                .post("/recipes")
                .then()
                .statusCode(400)
                .body("problems", Matchers.hasItem(containsString("training_config.learning_rate")))
                .contentType("application/problem+json")
                .body("type", equalTo("urn:streamtune:problem:recipe-refused"))
                .body("title", equalTo("Recipe refused"))
                .body("status", equalTo(400))
                .body("detail", equalTo("the recipe is refused"));
        given().delete("/recipes/anything").then().statusCode(401);
        given().post("/runs/anything/stop").then().statusCode(401);
        given().header("Authorization", "Bearer r3ad")
                .contentType("application/yaml")
                .body(UNUSABLE)
                .post("/recipes")
                .then()
                .statusCode(401);
        given().get("/runs")
                .then()
                .statusCode(401)
                .header("WWW-Authenticate", "Bearer")
                .body("detail", containsString("trainer.auth.read-token"));
        given().header("Authorization", "Bearer wrong").get("/runs").then().statusCode(401);
        given().header("Authorization", "Bearer r3ad").get("/runs").then().statusCode(200);
        given().header("Authorization", "Bearer s3cret").get("/runs").then().statusCode(200);
        given().get("/q/health/live").then().statusCode(200);
        given().get("/q/metrics").then().statusCode(200);
    }
}
